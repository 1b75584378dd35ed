/**
 * `btp-emulator start --write-env DIR`: what an app in another process, container or on the host needs, as files:
 * `ca.pem` (for NODE_EXTRA_CA_CERTS), `vcap-services.json` (VCAP_SERVICES_FILE_PATH), `default-env.json`
 * (@sap/xsenv, the approuter, CAP) and `.env` (`node --env-file`, dotenv, `set -a; . ./.env`). Each file is
 * written to a temporary name and renamed, so a reader polling for it never sees half a file; `.env` comes last.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDefaultEnvFile } from '../../sdk-adapters/default-env-file.ts';
import { writeVcapServicesFile } from '../../sdk-adapters/vcap-services.ts';

export interface EnvFiles {
  ca: string;
  vcapServices: string;
  defaultEnv: string;
  dotEnv: string;
}

/** A value for a `.env` line: single-quoted (read literally by dotenv, `node --env-file` and a POSIX shell). */
function envValue(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Writes the four files into `dir` (created if missing). `.env` sets NODE_EXTRA_CA_CERTS to `<dir>/ca.pem` as
 * this process sees it: an app container should mount the same volume at the same path.
 */
export function writeEnvFiles(emulator: { readonly env: Record<string, string>; caFile: string }, dir: string): EnvFiles {
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, '.writing-'));
  try {
    const files: EnvFiles = { ca: join(dir, 'ca.pem'), vcapServices: join(dir, 'vcap-services.json'), defaultEnv: join(dir, 'default-env.json'), dotEnv: join(dir, '.env') };
    const staged = (file: string): string => join(tmp, file.slice(dir.length + 1));
    copyFileSync(emulator.caFile, staged(files.ca));
    chmodSync(staged(files.ca), 0o644); // a certificate, public; apps in other containers run as other users
    writeVcapServicesFile(emulator, staged(files.vcapServices));
    writeDefaultEnvFile(emulator, { file: staged(files.defaultEnv) });
    const env = { VCAP_SERVICES: emulator.env.VCAP_SERVICES, NODE_EXTRA_CA_CERTS: files.ca };
    writeFileSync(staged(files.dotEnv), `${Object.entries(env).map(([key, value]) => `${key}=${envValue(value)}`).join('\n')}\n`);
    for (const file of [files.ca, files.vcapServices, files.defaultEnv, files.dotEnv]) renameSync(staged(file), file);
    return files;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
