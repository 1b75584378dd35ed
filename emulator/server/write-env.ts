/**
 * `btp-emulator start --write-env DIR`: what an app in another process, container or on the host needs, as files:
 * `ca.pem` (for NODE_EXTRA_CA_CERTS), `vcap-services.json` (VCAP_SERVICES_FILE_PATH), `default-env.json`
 * (@sap/xsenv, the approuter, CAP) and `.env` (`node --env-file`, dotenv, `set -a; . ./.env`). Each file is
 * written to a temporary name and renamed, so a reader polling for it never sees half a file; `.env` comes last.
 *
 * `.env` names the CA as this process sees it (`DIR/ca.pem`): right on this machine, and in any container that
 * mounts the same volume at the same path. For the host of a container, which copies the folder elsewhere
 * (`docker compose cp btp-emulator:/btp-env/. .btp-env/`), `hostDir` adds `host.env` naming `<hostDir>/ca.pem`.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { writeDefaultEnvFile } from '../../sdk-adapters/default-env-file.ts';
import { writeVcapServicesFile } from '../../sdk-adapters/vcap-services.ts';

export interface EnvFiles {
  ca: string;
  vcapServices: string;
  defaultEnv: string;
  dotEnv: string;
  /** Only with `hostDir`. */
  hostEnv?: string;
}

/**
 * A value for a `.env` line, single-quoted: dotenv, `node --env-file` and a POSIX shell all read that literally, but
 * they disagree on any way of writing a single quote inside it (a shell's `'\''` ends the value early for the other
 * two). So JSON gets its single quotes as `\u0027` (the same JSON once parsed), and other text with one is refused.
 */
function envValue(name: string, value: string, json: boolean): string {
  const text = json ? value.replace(/'/g, '\\u0027') : value;
  if (text.includes("'"))
    throw new Error(
      `${name} (${text}) contains a single quote, which a .env file cannot hold for dotenv and a shell alike; use a path without one`,
    );
  return `'${text}'`;
}

/** One `KEY='value'` line per entry. */
function envFile(env: Record<string, string>): string {
  return `${Object.entries(env)
    .map(([key, value]) => `${key}=${envValue(key, value, key === 'VCAP_SERVICES')}`)
    .join('\n')}\n`;
}

/**
 * Writes the four files into `dir` (created if missing), and `host.env` when `hostDir` is given. `.env` sets
 * NODE_EXTRA_CA_CERTS to `<dir>/ca.pem` as this process sees it; `host.env` to `<hostDir>/ca.pem` (kept as given:
 * a relative path is read relative to the app's working directory).
 */
export function writeEnvFiles(
  emulator: { readonly env: Record<string, string>; caFile: string },
  dir: string,
  options: { hostDir?: string } = {},
): EnvFiles {
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, '.writing-'));
  try {
    const files: EnvFiles = {
      ca: join(dir, 'ca.pem'),
      vcapServices: join(dir, 'vcap-services.json'),
      defaultEnv: join(dir, 'default-env.json'),
      dotEnv: join(dir, '.env'),
    };
    if (options.hostDir !== undefined) files.hostEnv = join(dir, 'host.env');
    const staged = (file: string): string => join(tmp, file.slice(dir.length + 1));
    copyFileSync(emulator.caFile, staged(files.ca));
    chmodSync(staged(files.ca), 0o644); // a certificate, public; apps in other containers run as other users
    writeVcapServicesFile(emulator, staged(files.vcapServices));
    writeDefaultEnvFile(emulator, { file: staged(files.defaultEnv) });
    writeFileSync(staged(files.dotEnv), envFile({ VCAP_SERVICES: emulator.env.VCAP_SERVICES, NODE_EXTRA_CA_CERTS: files.ca }));
    if (files.hostEnv)
      writeFileSync(
        staged(files.hostEnv),
        envFile({ VCAP_SERVICES: emulator.env.VCAP_SERVICES, NODE_EXTRA_CA_CERTS: posix.join(options.hostDir!, 'ca.pem') }),
      );
    const order = [files.ca, files.vcapServices, files.defaultEnv, ...(files.hostEnv ? [files.hostEnv] : []), files.dotEnv];
    for (const file of order) renameSync(staged(file), file);
    return files;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
