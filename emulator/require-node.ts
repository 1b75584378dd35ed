/**
 * The Node.js floor of the package (package.json#engines, also checked by the executable `cli/bin.js`): imported
 * first by the Node entry points (`.`, `./sdk-adapters`, `./testcontainers`), so an older Node fails at the import
 * with one message naming the version instead of somewhere later. Browsers (no `process.versions.node`) pass.
 */
export const requiredNodeVersion = '22.18.0';

/** Why this Node.js cannot run the emulator, or undefined when it can. */
export function unsupportedNodeMessage(version: string | undefined = globalThis.process?.versions?.node): string | undefined {
  if (!version) return undefined;
  const [major, minor] = version.split('.').map(Number);
  const [needMajor, needMinor] = requiredNodeVersion.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `btp-connectivity-emulator needs Node.js ${requiredNodeVersion} or newer; this is Node.js ${version}.`;
}

const problem = unsupportedNodeMessage();
if (problem) throw new Error(problem);
