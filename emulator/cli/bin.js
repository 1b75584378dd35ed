#!/usr/bin/env node
/**
 * The `btp-emulator` executable. Plain JavaScript that any Node version parses, so an old Node gets one line
 * naming the version the emulator needs (package.json#engines, the same floor as `../require-node.ts`) and exit
 * code 1 instead of a stack trace. It turns Node's compile cache on before the CLI and the emulator load, so the
 * cache covers the whole module graph (docs/performance.md).
 * In the repository it runs the sources (`./main.ts`); the build (tsconfig.build.json) rewrites that to `./main.js`.
 */
import module from 'node:module';

const requiredNodeVersion = '22.18.0';
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = requiredNodeVersion.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  console.error(`btp-emulator needs Node.js ${requiredNodeVersion} or newer; this is Node.js ${process.versions.node}.`);
  process.exit(1);
}
if (typeof module.enableCompileCache === 'function') module.enableCompileCache();
await import('./main.ts');
