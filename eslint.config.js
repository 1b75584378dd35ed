// Lint rules. The core (everything but emulator/server and emulator/cli) must run in a browser,
// so Node built-ins are forbidden there: the MSW face runs the same code in a page.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'net', 'http', 'https', 'tls', 'crypto', 'os', 'path', 'stream', 'buffer'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain JavaScript run by Node (the CLI executable): Node's globals.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable' } },
  },
  {
    files: ['emulator/core/**', 'emulator/services/**', 'emulator/app/**', 'emulator/msw/**', 'emulator/client/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'The core, the services and the app layer must run in a browser: no Node built-ins here.' },
          ],
        },
      ],
    },
  },
);
