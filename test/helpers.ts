/** Small helpers shared by the tests: form posts and client-credentials tokens against a running emulator, the ready line of a spawned CLI, a scenario with one resource-guarded gateway. */
import type { ChildProcess } from 'node:child_process';
import type { EmulatorHandle, ScenarioInput } from '../emulator/index.ts';

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

export function binding(emu: EmulatorHandle, service: 'xsuaa' | 'destination' | 'connectivity'): Record<string, string> {
  const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { credentials: Record<string, string> }[]>;
  return vcap[service][0].credentials;
}

/** A client-credentials token for a binding's client, optionally for another tenant (by zid). */
export async function serviceToken(emu: EmulatorHandle, service: 'xsuaa' | 'destination' | 'connectivity', zid?: string): Promise<string> {
  const creds = binding(emu, service);
  const res = await postForm(
    `${emu.urls.services}/oauth/token`,
    { grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret },
    zid ? { 'x-zid': zid } : {},
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Resolves with the first stdout line of a spawned CLI (the ready line); rejects, with stderr, if the CLI exits first. */
export function readyLine(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolveLine, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolveLine(out.split('\n')[0]);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => reject(new Error(`the CLI exited with ${code}: ${err}`)));
  });
}

/** The path prefixes the gateway of gatewayScenario lets through (exactMatchOnly false); every other path is refused. */
export const gatewayResources = ['/sap/opu/odata', '/sap/bc'];

/** One provider tenant whose default Cloud Connector maps gw.internal:44300 (HTTP) to a local server, allowing gatewayResources only. */
export function gatewayScenario(name: string, internalPort: number): ScenarioInput {
  return {
    name,
    tenants: [
      {
        subdomain: 'provider',
        cloudConnectors: [
          {
            locationId: '',
            systems: [
              {
                virtualHost: 'gw.internal',
                virtualPort: 44300,
                internalHost: '127.0.0.1',
                internalPort,
                protocol: 'HTTP',
                resources: gatewayResources.map((path) => ({ path, exactMatchOnly: false })),
              },
            ],
          },
        ],
      },
    ],
  };
}
