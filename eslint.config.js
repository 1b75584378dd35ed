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
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: [
      'emulator/core/**',
      'emulator/xsuaa/**',
      'emulator/destination-service/**',
      'emulator/control/**',
      'emulator/cloud-connector/**',
      'emulator/msw/**',
      'emulator/connectivity-service/**',
      'emulator/client/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: nodeBuiltins, message: 'The core must run in a browser: no Node built-ins here.' }] },
      ],
    },
  },
);
