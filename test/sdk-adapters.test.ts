/**
 * Each adapter read by its real consumer: `@sap/xsenv` loads the default-env.json and finds the bindings in
 * both Kubernetes directory layouts and in a VCAP_SERVICES file; the SAP Cloud SDK finds a destination and
 * reaches the on-prem backend through the connectivity proxy from a binding directory alone (VCAP_SERVICES
 * unset); user tokens come from the control API; the test-run setup starts, exports and stops one emulator.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type ServiceBinding, type VcapServices } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import {
  approuterDestinationsJson,
  capConfigEnv,
  capRemoteService,
  emulatorGlobalSetup,
  extraCaCertsEnv,
  selectBindings,
  testRunEmulator,
  userToken,
  vcapServicesJson,
  writeDefaultEnvFile,
  writeServiceBindingRoot,
  writeVcapServicesFile,
  type ProvidedEmulator,
} from '../sdk-adapters/index.ts';

interface Xsenv {
  loadEnv(file?: string): void;
  filterServices(filter: Record<string, string> | string): (Partial<ServiceBinding> & { credentials: Record<string, unknown> })[];
}
const xsenv = createRequire(import.meta.url)('@sap/xsenv') as Xsenv;

const touchedVariables = ['VCAP_SERVICES', 'VCAP_SERVICES_FILE_PATH', 'SERVICE_BINDING_ROOT', 'destinations', 'BTP_EMULATOR_CONTROL_URL'];
const savedEnv = Object.fromEntries(touchedVariables.map((k) => [k, process.env[k]]));
const tempDirs: string[] = [];
let emu: EmulatorHandle;
let vcap: VcapServices;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-adapters-'));
  tempDirs.push(dir);
  return dir;
}

function restoreEnv(): void {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

/** A process environment with no bindings at all, so each test shows where the consumer found them. */
function clearBindingEnv(): void {
  for (const key of touchedVariables) delete process.env[key];
}

/** The test's own landscape: one Internet and one OnPremise destination, a Cloud Connector, two users. */
const scenario = {
  name: 'sdk-adapters',
  tenants: [
    {
      subdomain: 'provider',
      destinations: [
        { Name: 'BACKEND_NOAUTH', Type: 'HTTP', URL: '{{backend}}', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
        {
          Name: 'ONPREM_BASIC',
          Type: 'HTTP',
          URL: 'http://erp.internal:44300',
          Authentication: 'BasicAuthentication',
          ProxyType: 'OnPremise',
          User: 'erp-user',
          Password: 'erp-password',
        },
      ],
      cloudConnectors: [
        {
          locationId: '',
          systems: [
            {
              virtualHost: 'erp.internal',
              virtualPort: 44300,
              internalHost: '{{backendHost}}',
              internalPort: '{{backendHttpPort}}',
              protocol: 'HTTP',
              resources: [{ path: '/', exactMatchOnly: false }],
            },
          ],
        },
      ],
    },
  ],
  users: [
    { name: 'alice', email: 'alice@example.com', scopes: ['Display', 'Edit'] },
    { name: 'bob', scopes: ['Display'] },
  ],
};

const bindingOf = (label: string): ServiceBinding =>
  Object.values(vcap)
    .flat()
    .find((b) => b.label === label)!;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario });
  vcap = JSON.parse(emu.env.VCAP_SERVICES) as VcapServices;
  clearBindingEnv();
});

afterEach(clearBindingEnv);

afterAll(async () => {
  restoreEnv();
  await emu?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('default-env.json, read by @sap/xsenv', () => {
  it('loadEnv puts VCAP_SERVICES and destinations into process.env; filterServices finds every binding by label', () => {
    const destinations = [{ name: 'LOCAL', url: 'http://localhost:4004', forwardAuthToken: true }];
    const file = writeDefaultEnvFile(emu, { dir: tempDir(), destinations });
    xsenv.loadEnv(file);
    expect(JSON.parse(process.env.destinations!)).toEqual(destinations);
    for (const label of ['xsuaa', 'destination', 'connectivity']) {
      const [found] = xsenv.filterServices({ label });
      expect(found.credentials).toEqual(bindingOf(label).credentials);
    }
    expect(xsenv.filterServices({ label: 'destination' })[0].credentials.uri).toBe(emu.urls.services);
  });

  it('does not overwrite variables the process already has (xsenv semantics), so a real env wins', () => {
    process.env.VCAP_SERVICES = JSON.stringify({});
    xsenv.loadEnv(writeDefaultEnvFile(emu, { dir: tempDir() }));
    expect(xsenv.filterServices({ label: 'xsuaa' })).toEqual([]);
  });
});

describe('VCAP_SERVICES as a string and as a file', () => {
  it('the string is the emulator env value, and selectBindings keeps only the labels asked for', () => {
    expect(JSON.parse(vcapServicesJson(emu))).toEqual(vcap);
    process.env.VCAP_SERVICES = vcapServicesJson(selectBindings(emu, ['xsuaa', 'destination']));
    expect(xsenv.filterServices({ label: 'destination' })).toHaveLength(1);
    expect(xsenv.filterServices({ label: 'connectivity' })).toEqual([]);
    expect(() => selectBindings(emu, ['nope'])).toThrow('no binding with label nope');
  });

  it('xsenv prefers VCAP_SERVICES_FILE_PATH', () => {
    Object.assign(process.env, writeVcapServicesFile(emu, join(tempDir(), 'vcap.json')));
    expect(xsenv.filterServices({ label: 'connectivity' })[0].credentials).toEqual(bindingOf('connectivity').credentials);
  });
});

describe.each(['servicebinding.io', 'sap-k8s'] as const)('SERVICE_BINDING_ROOT, %s layout', (layout) => {
  it('xsenv finds each binding by label, name and tag with the same credentials as VCAP_SERVICES', () => {
    Object.assign(process.env, writeServiceBindingRoot(emu, { dir: tempDir(), layout }));
    for (const binding of Object.values(vcap).flat()) {
      const [byLabel] = xsenv.filterServices({ label: binding.label });
      expect(byLabel.name).toBe(binding.name);
      expect(byLabel.tags).toEqual(expect.arrayContaining(binding.tags));
      expect(byLabel.credentials).toMatchObject(binding.credentials);
      expect(xsenv.filterServices({ name: binding.name, tag: binding.tags[0] })).toHaveLength(1);
    }
  });

  it('the SAP Cloud SDK finds a destination and reaches the on-prem backend through the proxy, VCAP_SERVICES unset', async () => {
    Object.assign(process.env, writeServiceBindingRoot(emu, { dir: tempDir(), layout }));
    expect(process.env.VCAP_SERVICES).toBeUndefined();
    const destination = await getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false });
    expect(destination?.url).toBe(emu.urls.backend);
    const res = await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: `/from-${layout}` });
    expect((res.data as EchoBody).path).toBe(`/from-${layout}`);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, virtualTarget: 'erp.internal:44300' });
  });
});

describe('servicebinding.io details', () => {
  it('writes a .metadata file that declares label (text) and tags (json), without which the SDK finds nothing', () => {
    const dir = tempDir();
    writeServiceBindingRoot(emu, { dir });
    const metadata = JSON.parse(readFileSync(join(dir, 'my-destination', '.metadata'), 'utf8')) as {
      metaDataProperties: { name: string; format: string }[];
    };
    expect(metadata.metaDataProperties).toEqual(
      expect.arrayContaining([
        { name: 'label', format: 'text' },
        { name: 'tags', format: 'json' },
        { name: 'type', format: 'text' },
      ]),
    );
    expect(readFileSync(join(dir, 'my-destination', 'type'), 'utf8')).toBe('destination');
  });
});

describe('approuter destinations and CAP requires', () => {
  it('the destinations value is a JSON array with the approuter keys; unknown keys are refused before the approuter would', () => {
    expect(JSON.parse(approuterDestinationsJson([{ name: 'A', url: 'http://localhost:1', forwardAuthToken: true }]))).toEqual([
      { name: 'A', url: 'http://localhost:1', forwardAuthToken: true },
    ]);
    expect(() => approuterDestinationsJson([{ name: 'A', url: 'http://x', User: 'u' } as never])).toThrow('does not accept User');
    expect(() => approuterDestinationsJson([{ name: 'A', url: '/relative' }])).toThrow('not absolute');
    expect(() => approuterDestinationsJson([{ name: 'A', url: 'http://x', proxyHost: 'p' }])).toThrow('go together');
  });

  it('cds.requires entries name the destination and path', () => {
    expect(capRemoteService({ destination: 'ERP', kind: 'odata-v2', path: '/sap/opu/odata/sap/API_SAMPLE_SRV' })).toEqual({
      kind: 'odata-v2',
      credentials: { destination: 'ERP', path: '/sap/opu/odata/sap/API_SAMPLE_SRV' },
    });
    expect(JSON.parse(capConfigEnv({ Remote: { destination: 'ERP' } }).CDS_CONFIG)).toEqual({
      requires: { Remote: { kind: 'odata', credentials: { destination: 'ERP' } } },
    });
    expect(() => capRemoteService({ destination: 'ERP', path: 'no-slash' })).toThrow('must start with /');
  });
});

describe('CA file and user tokens', () => {
  it('NODE_EXTRA_CA_CERTS points at the emulator CA', () => {
    expect(extraCaCertsEnv(emu)).toEqual({ NODE_EXTRA_CA_CERTS: emu.caFile });
    expect(readFileSync(extraCaCertsEnv(emu).NODE_EXTRA_CA_CERTS, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(() => extraCaCertsEnv({ vcapServices: vcap })).toThrow('no CA file');
  });

  it('a user token for a named user, from the handle and from the control API of a running emulator', async () => {
    const fromHandle = decodeJwt(await userToken(emu, 'alice'));
    const fromControl = decodeJwt(await userToken({ controlUrl: emu.urls.control }, 'bob', { scopes: ['Display'] }));
    expect(fromHandle).toMatchObject({ user_name: 'alice', email: 'alice@example.com' });
    expect(fromControl).toMatchObject({ user_name: 'bob' });
    expect(fromControl.scope).toEqual(expect.arrayContaining([expect.stringMatching(/\.Display$/)]));
    await expect(userToken({ controlUrl: emu.urls.control }, 'alice', { tenant: 'nowhere' })).rejects.toThrow('400');
  });
});

describe('test-run emulator (vitest global setup)', () => {
  it('starts one emulator, exports its env for the workers, provides its URLs and stops it in teardown', async () => {
    const provided: Record<string, ProvidedEmulator> = {};
    const teardown = await emulatorGlobalSetup({ scenario })({ provide: (key, value) => (provided[key] = value) });
    try {
      const run = testRunEmulator();
      expect(process.env.VCAP_SERVICES).toBe(provided.btpEmulator.env.VCAP_SERVICES);
      expect(process.env.NODE_EXTRA_CA_CERTS).toBe(provided.btpEmulator.env.NODE_EXTRA_CA_CERTS);
      expect((await fetch(`${run.controlUrl}/health`)).status).toBe(200);
      expect(decodeJwt(await userToken(run, 'alice')).user_name).toBe('alice');
      expect(xsenv.filterServices({ label: 'destination' })[0].credentials.uri).toBe(provided.btpEmulator.urls.services);
    } finally {
      await teardown();
    }
    expect(process.env.VCAP_SERVICES).toBeUndefined();
    expect(() => testRunEmulator()).toThrow('no test-run emulator');
    await expect(fetch(`${provided.btpEmulator.urls.control}/health`)).rejects.toThrow();
  });
});
