// The layer rule (npm run lint:layers, part of npm run lint; docs/architecture.md draws it). From the ground up:
//   emulator/core        the ground: imports nothing of the emulator but itself
//   emulator/services/*  one folder per service (a plugin): imports the core and other services, never a layer above
//   emulator/app         the composition root (the plugin list, EmulatorCore, the handle): imports core and services
//   faces                emulator/server, msw, cli, kubernetes, testcontainers, persistence, client, index.ts; sdk-adapters
// Any import circle fails, and so does any import from a lower layer into a higher one.
const faces = '^emulator/(server|msw|cli|kubernetes|testcontainers|persistence|client)/|^emulator/(index|require-node)\\.ts$';
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle.', from: {}, to: { circular: true } },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'emulator/core is the ground: it imports no service, no app and no face.',
      from: { path: '^emulator/core/' },
      to: { path: '^(emulator/(?!core/)|sdk-adapters/)' },
    },
    {
      name: 'services-import-no-app-or-face',
      severity: 'error',
      comment: 'A service imports the core and other services, never the app layer or a face.',
      from: { path: '^emulator/services/' },
      to: { path: `^emulator/app/|${faces}|^sdk-adapters/` },
    },
    {
      name: 'app-imports-no-face',
      severity: 'error',
      comment: 'The composition root imports the core and the services, never a face.',
      from: { path: '^emulator/app/' },
      to: { path: `${faces}|^sdk-adapters/` },
    },
    {
      name: 'emulator-imports-no-tests',
      severity: 'error',
      comment: 'Shipped code never imports tests, benchmarks or examples.',
      from: { path: '^(emulator|sdk-adapters)/' },
      to: { path: '^(test|bench|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
  },
};
