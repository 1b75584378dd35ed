/**
 * Contract test of the Cloud Connector REST API against the recorded interactions of SAP's Terraform provider with
 * a real Cloud Connector 2.19 (go-vcr cassettes in ../shared/reference/cloud-connector-api-fixtures/, outside this
 * repository). For every cassette the emulator starts from the same seed (the entities the recordings found on
 * the real instance), its requests are replayed in order, and each answer is compared: status, `Location` (there or
 * not: the recordings redact it), the media type of `Content-Type`, and the body's shape (the same keys, the same
 * types; values that are per instance, such as dates, ids and certificates, are compared by type only). Ids the
 * emulator gives new entities are learnt from its answers and used in later URLs, as the provider does.
 * Without the fixtures the test is skipped with the reason; BTP_EMULATOR_REQUIRE_SPEC=1 makes that a failure.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';

const fixturesDir = fileURLToPath(new URL('../../shared/reference/cloud-connector-api-fixtures/', import.meta.url));
const available = existsSync(fixturesDir);
const required = process.env.BTP_EMULATOR_REQUIRE_SPEC === '1';
const missing = `the recorded Cloud Connector interactions are not at ${fixturesDir}`;
if (!available && !required) console.warn(`Cloud Connector contract test skipped: ${missing}`);

/** Interactions the emulator answers differently on purpose, each with its reason (docs/cloud-connector.md). */
const notSupported: Record<string, string> = {};

interface Interaction {
  request: { method: string; url: string; body: string; headers: Record<string, string[]> };
  response: { code: number; body: string; headers: Record<string, string[]> };
}

const region = 'cf.eu12.hana.ondemand.com';
const password = 'contract-test';
/** What the recordings found on the real instance before each test. */
const seed = {
  name: 'cloud-connector-contract',
  tenants: [
    { subdomain: 'provider', subaccountId: 'b1799d1c-ce91-4cd4-8b6e-dc8f4eaf0ad9' },
    {
      subdomain: 'datasources',
      subaccountId: '1de4ab49-1b7b-47ca-89bb-0a4d9da1d057',
      cloudConnectors: [
        {
          regionHost: region,
          displayName: 'Terraform Subaccount Datasource',
          description: 'Subaccount used for all data sources',
          systems: [
            {
              virtualHost: 'testterraformvirtual',
              virtualPort: 900,
              internalHost: 'testterraforminternal',
              internalPort: 900,
              backendType: 'abapSys',
              authenticationMode: 'KERBEROS',
              sid: '',
              description: '',
              creationDate: 1771323471326,
              resources: [
                {
                  path: '/',
                  exactMatchOnly: true,
                  enabled: true,
                  websocketUpgradeAllowed: false,
                  description: '',
                  creationDate: 1771323475149,
                },
              ],
            },
          ],
          domainMappings: [{ virtualDomain: 'testterraformvirtualdomain', internalDomain: 'testterraforminternaldomain' }],
          channels: [
            { id: 1, type: 'ABAPCloud', abapCloudTenantHost: 'abap.example', instanceNumber: 50, port: 3350 },
            { id: 2, type: 'K8S', k8sCluster: 'cluster.example', k8sService: 'service-id', port: 3000 },
          ],
        },
      ],
    },
    {
      subdomain: 'resources',
      subaccountId: '9f7390c8-f201-4b2d-b751-04c0a63c2671',
      cloudConnectors: [
        {
          regionHost: region,
          systems: [
            { virtualHost: 'testtfvirtualtesting', virtualPort: 90, internalHost: 'testtfinternal', internalPort: 90, resources: [] },
          ],
        },
      ],
    },
  ],
  cloudConnectorApi: {
    regionHost: region,
    users: [{ name: 'Administrator', password }],
    instances: [
      {
        locationId: '',
        proxy: { host: 'test_host', port: 123, user: 'test_user', password: 'secret' },
        trustedBackends: [{ alias: 'trustedbackend.1.1', subjectDN: 'CN=backend', issuer: 'CN=issuer', notAfterTimeStamp: 1814249600000 }],
        nextChannelId: 3,
      },
    ],
  },
};

/** A canonical description of a JSON value's shape: keys and types, array elements as a set of shapes. */
function shape(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${[...new Set(value.map(shape))].sort().join('|')}]`;
  if (typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${k}:${shape((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return typeof value;
}

/** Learn recorded id → emulator id from two answers of the same shape. */
function learnIds(recorded: unknown, actual: unknown, ids: Map<string, string>): void {
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    if (recorded.length === actual.length) recorded.forEach((r, i) => learnIds(r, actual[i], ids));
    return;
  }
  if (recorded && actual && typeof recorded === 'object' && typeof actual === 'object') {
    const r = recorded as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if (typeof r.id === 'number' && typeof a.id === 'number' && r.id !== a.id) ids.set(String(r.id), String(a.id));
    for (const key of Object.keys(r)) if (key !== 'id') learnIds(r[key], a[key], ids);
  }
}

const mediaType = (value: string | null | undefined): string => (value ?? '').split(';')[0].trim().toLowerCase();

let emu: EmulatorHandle | undefined;
beforeAll(async () => {
  if (available) emu = await startEmulator({ port: 0, scenario: seed });
});
afterAll(async () => emu?.stop());

it('replays every recorded interaction of the Terraform provider and gets the same answers', async (context) => {
  if (!available) {
    if (required) throw new Error(`BTP_EMULATOR_REQUIRE_SPEC=1: ${missing}`);
    context.skip(missing);
  }
  const files = readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  expect(files.length).toBe(56);
  let total = 0;
  let matched = 0;
  const mismatches: string[] = [];
  for (const file of files) {
    const cassette = parse(readFileSync(`${fixturesDir}${file}`, 'utf8')) as { interactions: Interaction[] | null };
    emu!.loadScenario(seed);
    const ids = new Map<string, string>();
    for (const [index, interaction] of (cassette.interactions ?? []).entries()) {
      total++;
      const { request, response } = interaction;
      const path = new URL(request.url).pathname
        .split('/')
        .map((segment) => ids.get(segment) ?? segment)
        .join('/');
      const headers: Record<string, string> = { authorization: 'Basic ' + btoa(`Administrator:${password}`) };
      const accept = request.headers.Accept?.[0];
      if (accept) headers.accept = accept;
      if (request.body) headers['content-type'] = 'application/json';
      const res = await fetch(`${emu!.urls.cloudConnectorApi}${path}`, {
        method: request.method,
        headers,
        body: request.body || undefined,
      });
      const text = await res.text();
      const problems: string[] = [];
      if (res.status !== response.code) problems.push(`status ${res.status}, recorded ${response.code}`);
      const recordedType = mediaType(response.headers['Content-Type']?.[0]);
      if (mediaType(res.headers.get('content-type')) !== recordedType)
        problems.push(`Content-Type ${res.headers.get('content-type')}, recorded ${recordedType || 'none'}`);
      if (res.headers.has('location') !== Boolean(response.headers.Location))
        problems.push(`Location ${res.headers.get('location') ?? 'missing'}`);
      if (recordedType === 'application/json' && response.body) {
        try {
          const recorded = JSON.parse(response.body) as unknown;
          const actual = JSON.parse(text) as unknown;
          if (shape(recorded) !== shape(actual)) problems.push(`body shape ${shape(actual)}, recorded ${shape(recorded)}`);
          else learnIds(recorded, actual, ids);
        } catch (err) {
          problems.push(`body: ${(err as Error).message}: ${text.slice(0, 200)}`);
        }
      } else if (Boolean(response.body) !== Boolean(text))
        problems.push(`body ${text ? 'present' : 'empty'}, recorded ${response.body ? 'present' : 'empty'}`);
      const key = `${file}#${index}`;
      if (!problems.length) matched++;
      else if (!(key in notSupported)) mismatches.push(`${key} ${request.method} ${path}: ${problems.join('; ')}`);
    }
  }
  console.log(`Cloud Connector contract: ${matched} of ${total} recorded interactions match`);
  expect(mismatches).toEqual([]);
  expect(matched + Object.keys(notSupported).length).toBe(total);
});
