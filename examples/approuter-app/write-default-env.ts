/**
 * Writes this approuter's `default-env.json` from a running emulator: its xsuaa binding (the approuter
 * validates user tokens against it) and the `BACKEND` destination (the fake on-prem backend, with the user's
 * token forwarded). The approuter loads the file from its working directory when it starts.
 *
 *   node examples/approuter-app/write-default-env.ts [--url http://localhost:20000] [--backend http://localhost:20010]
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectBindings, writeDefaultEnvFile, type BindingSource } from 'btp-connectivity-emulator/sdk-adapters';

/** The approuter only needs xsuaa here; bound to connectivity it would fetch tokens by subdomain per request. */
export function writeApprouterDefaultEnv(from: BindingSource, options: { dir: string; backendUrl: string }): string {
  return writeDefaultEnvFile(selectBindings(from, ['xsuaa']), {
    dir: options.dir,
    destinations: [{ name: 'BACKEND', url: options.backendUrl, forwardAuthToken: true }],
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: 'string', default: 'http://localhost:20000' }, backend: { type: 'string', default: 'http://localhost:20010' } },
  });
  const res = await fetch(`${values.url}/_emulator/env`);
  if (!res.ok) throw new Error(`GET ${values.url}/_emulator/env: ${res.status}`);
  const env = (await res.json()) as { VCAP_SERVICES: string; NODE_EXTRA_CA_CERTS?: string };
  const file = writeApprouterDefaultEnv(
    { vcapServices: env.VCAP_SERVICES, caFile: env.NODE_EXTRA_CA_CERTS },
    { dir: dirname(fileURLToPath(import.meta.url)), backendUrl: values.backend },
  );
  console.log(`wrote ${file}`);
  if (env.NODE_EXTRA_CA_CERTS) console.log(`start the approuter with NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
