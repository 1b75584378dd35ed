/**
 * Scenarios refuse what they do not understand: an unknown key of the emulator's own objects, anywhere, is
 * refused at its path with a did-you-mean; destinations keep additional properties but not near-misses of known
 * ones; `Type`, `ProxyType` and `Authentication` are checked at load. `loadScenario()`, `POST /_emulator/scenario`
 * and `startEmulator()` apply the same rules, and a refusal changes nothing. `startEmulator()` names the port option
 * that is in use and the scenario file it cannot read.
 */
import { ValidationError } from '../emulator/core/validation.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { call, dest, destinationToken } from './state-helpers.ts';
import { PortInUseError, ScenarioFileError, startEmulator, validateScenario, type EmulatorHandle } from '../emulator/index.ts';

type Issue = { path: string; message: string };

/** The issues a scenario is refused with (fails the test when it loads). */
function issuesOf(scenario: unknown): Issue[] {
  try {
    validateScenario(scenario);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  throw new Error('the scenario was accepted');
}

const provider = (extra: Record<string, unknown> = {}) => ({ subdomain: 'provider', ...extra });
const destination = (extra: Record<string, unknown> = {}) => ({
  Name: 'D',
  Type: 'HTTP',
  URL: 'http://erp.internal:44300',
  Authentication: 'NoAuthentication',
  ProxyType: 'OnPremise',
  ...extra,
});

describe('unknown keys of the emulator’s own objects', () => {
  it('a top-level `tenant:` is refused at its path with `tenants` suggested', () => {
    expect(issuesOf({ tenant: [provider()] })).toContainEqual({ path: 'tenant', message: 'unknown key; did you mean `tenants`?' });
  });

  it('`destinatons:` in a tenant is refused instead of loading a tenant without destinations', () => {
    expect(issuesOf({ tenants: [provider({ destinatons: [destination()] })] })).toEqual([
      { path: 'tenants[0].destinatons', message: 'unknown key; did you mean `destinations`?' },
    ]);
  });

  it.each([
    [
      'bindings',
      { tenants: [provider()], bindings: [{ name: 'b', service: 'xsuaa', credentialtype: 'x509' }] },
      'bindings[0].credentialtype',
      'credentialType',
    ],
    [
      'clients',
      { tenants: [provider()], clients: [{ clientid: 'c', clientsecret: 's', authority: ['x'] }] },
      'clients[0].authority',
      'authorities',
    ],
    ['users', { tenants: [provider()], users: [{ name: 'alice', scope: ['Display'] }] }, 'users[0].scope', 'scopes'],
    [
      'cloudConnectors',
      { tenants: [provider({ cloudConnectors: [{ locationID: 'LOC1' }] })] },
      'tenants[0].cloudConnectors[0].locationID',
      'locationId',
    ],
    [
      'systems',
      {
        tenants: [
          provider({
            cloudConnectors: [
              { systems: [{ virtualHost: 'erp', virtualPort: 443, internalHost: 'h', internalPort: 1, protocl: 'HTTPS' }] },
            ],
          }),
        ],
      },
      'tenants[0].cloudConnectors[0].systems[0].protocl',
      'protocol',
    ],
    [
      'resources',
      {
        tenants: [
          provider({
            cloudConnectors: [
              {
                systems: [
                  {
                    virtualHost: 'erp',
                    virtualPort: 443,
                    internalHost: 'h',
                    internalPort: 1,
                    resources: [{ path: '/', exactMatch: true }],
                  },
                ],
              },
            ],
          }),
        ],
      },
      'tenants[0].cloudConnectors[0].systems[0].resources[0].exactMatch',
      'exactMatchOnly',
    ],
    ['backend stubs', { tenants: [provider()], backend: { stubs: [{ path: '/x', staus: 404 }] } }, 'backend.stubs[0].staus', 'status'],
    [
      'instance levels',
      { tenants: [provider({ instances: { 'my-destination': { destination: [] } } })] },
      'tenants[0].instances.my-destination.destination',
      'destinations',
    ],
    [
      'certificates',
      { tenants: [provider({ certificates: [{ Name: 'c.pem', Content: 'x', Contents: 'y' }] })] },
      'tenants[0].certificates[0].Contents',
      'Content',
    ],
  ])('a typo in %s is refused at its path with a did-you-mean', (_what, scenario, path, meant) => {
    expect(issuesOf(scenario)).toContainEqual({ path, message: `unknown key; did you mean \`${meant}\`?` });
  });

  it('a key near nothing lists the keys that are allowed there; several unknown keys are each reported', () => {
    const issues = issuesOf({ tenants: [provider()], bindings: [{ name: 'b', service: 'xsuaa', colour: 'red', weight: 3 }] });
    expect(issues.map((i) => i.path)).toEqual(['bindings[0].colour', 'bindings[0].weight']);
    expect(issues[0].message).toBe(
      'unknown key; the keys here are name, service, plan, clientid, clientsecret, xsappname, instanceid, credentialType, tokenType',
    );
  });
});

describe('destination properties', () => {
  it.each([
    ['ProxyTyp', 'ProxyType'],
    ['Authentcation', 'Authentication'],
    ['clientid', 'clientId'],
    ['tokenServiceUrl', 'tokenServiceURL'],
    ['CloudConnectorLocationID', 'CloudConnectorLocationId'],
    ['Passwort', 'Password'],
    ['URL.header.apikey', 'URL.headers.apikey'],
  ])('a near-miss of a known property (%s) is refused with the one it meant', (key, meant) => {
    const issues = issuesOf({ tenants: [provider({ destinations: [destination({ [key]: 'x' })] })] });
    expect(issues).toEqual([
      {
        path: `tenants[0].destinations[0].${key}`,
        message: `did you mean \`${meant}\`? (a destination keeps any additional property, but not a near-miss of a known one)`,
      },
    ]);
  });

  it('arbitrary additional properties are accepted and served as they are', async () => {
    const extra = {
      'sap-client': '100',
      WebIDEEnabled: true,
      WebIDEUsage: 'odata_gen',
      'URL.headers.X-Api-Key': 'k',
      'URL.queries.lang': 'de',
      'tokenService.body.resource': 'urn:x',
      'HTML5.DynamicDestination': 'true',
      'mail.smtp.from': 'a@b',
      'product.name': 'ERP',
      myOwnFlag: 'yes',
    };
    const emu = await startEmulator({
      port: 0,
      scenario: {
        tenants: [
          provider({ destinations: [destination(extra)], fragments: [{ FragmentName: 'F', 'sap-client': '200', customHeader: 'h' }] }),
        ],
      },
    });
    try {
      const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
      const found = await fetch(`${emu.urls.services}${dest}/destinations/D`, {
        headers: { authorization: `Bearer ${token}`, 'x-fragment-name': 'F' },
      });
      expect(found.status).toBe(200);
      const { destinationConfiguration } = (await found.json()) as { destinationConfiguration: Record<string, string> };
      expect(destinationConfiguration).toMatchObject({ ...extra, WebIDEEnabled: 'true', 'sap-client': '200', customHeader: 'h' });
    } finally {
      await emu.stop();
    }
  });

  it('a near-miss in a fragment is refused too, and a fragment keeps its own additional properties', () => {
    expect(issuesOf({ tenants: [provider({ fragments: [{ FragmentName: 'f', proxyType: 'OnPremise' }] })] })).toEqual([
      {
        path: 'tenants[0].fragments[0].proxyType',
        message: 'did you mean `ProxyType`? (a destination keeps any additional property, but not a near-miss of a known one)',
      },
    ]);
  });

  it.each([
    ['Type', 'HTTPS', 'Type must be one of HTTP, RFC, MAIL, LDAP, TCP; did you mean `HTTP`?'],
    ['ProxyType', 'onpremise', 'ProxyType must be one of Internet, OnPremise, PrivateLink; did you mean `OnPremise`?'],
    ['ProxyType', 'Intranet', 'ProxyType must be one of Internet, OnPremise, PrivateLink; did you mean `Internet`?'],
    ['Authentication', 'NoAuthentcation', 'did you mean `NoAuthentication`?'],
    ['Authentication', 'OAuth2ClientCredential', 'did you mean `OAuth2ClientCredentials`?'],
    ['Authentication', 'Kerberos', 'OAuth2TokenExchange'],
  ])('%s: %s is refused at load with the allowed values', (field, value, expected) => {
    const [issue, ...more] = issuesOf({ tenants: [provider({ destinations: [destination({ [field]: value })] })] });
    expect(more).toEqual([]);
    expect(issue.path).toBe(`tenants[0].destinations[0].${field}`);
    expect(issue.message).toContain(expected);
    if (field === 'Authentication')
      expect(issue.message).toMatch(/^Authentication must be one of NoAuthentication, BasicAuthentication, .*OAuth2TokenExchange/);
  });

  it('every mistake of a destination is reported at once', () => {
    const issues = issuesOf({
      tenants: [provider({ destinations: [destination({ Type: 'SOAP', ProxyTyp: 'OnPremise', Authentication: 'Basic' })] })],
    });
    expect(issues.map((i) => i.path)).toEqual([
      'tenants[0].destinations[0].Type',
      'tenants[0].destinations[0].ProxyTyp',
      'tenants[0].destinations[0].Authentication',
    ]);
  });
});

describe('the same rules on every way in', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({
      port: 0,
      scenario: { name: 'first', tenants: [provider({ destinations: [destination({ Name: 'FIRST' })] })] },
    });
  });
  afterAll(async () => {
    await emu?.stop();
  });
  // Each test starts from the scenario 'first' (the CRUD test below adds a destination).
  beforeEach(() => emu.reset());

  it('POST /_emulator/scenario answers 400 naming the path, and the old scenario stays active', async () => {
    const yaml = [
      'name: second',
      'tenants:',
      '  - subdomain: provider',
      '    destinations:',
      '      - Name: SECOND',
      '        Type: HTTP',
      '        ProxyTyp: OnPremise',
      'tenant: x',
      '',
    ].join('\n');
    const res = await fetch(`${emu.urls.control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; issues: Issue[] };
    expect(body.issues.map((i) => i.path)).toEqual(['tenants[0].destinations[0].ProxyTyp', 'tenant']);
    expect(body.message).toContain('tenant: unknown key; did you mean `tenants`?');
    const json = await fetch(`${emu.urls.control}/scenario`, {
      method: 'POST',
      body: JSON.stringify({ name: 'third', tenants: [provider({ destinations: [destination({ Authentication: 'NoAuthentcation' })] })] }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { issues: Issue[] }).issues).toEqual([
      { path: 'tenants[0].destinations[0].Authentication', message: expect.stringContaining('did you mean `NoAuthentication`?') },
    ]);

    expect(emu.core.scenario.name).toBe('first');
    expect(((await (await fetch(`${emu.urls.control}/scenario`)).json()) as { name: string }).name).toBe('first');
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    const names = (await call(emu.urls.services, 'GET', `${dest}/subaccountDestinations`, { token })).body as { Name: string }[];
    expect(names.map((d) => d.Name)).toEqual(['FIRST']);
  });

  it('loadScenario() refuses the same and changes nothing', () => {
    expect(() => emu.loadScenario({ name: 'fourth', tenants: [provider({ destinatons: [] })] })).toThrow(
      /tenants\[0\]\.destinatons: unknown key; did you mean `destinations`\?/,
    );
    expect(emu.core.scenario.name).toBe('first');
  });

  it('the CRUD API keeps accepting any additional property, near-misses too, as the Destination Service does', async () => {
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    const body = {
      Name: 'VIA_CRUD',
      Type: 'HTTP',
      URL: 'https://x',
      Authentication: 'NoAuthentication',
      ProxyTyp: 'Internet',
      WebIDEEnabled: 'true',
    };
    expect((await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body })).status).toBe(201);
    expect((await call(emu.urls.services, 'GET', `${dest}/subaccountDestinations/VIA_CRUD`, { token })).body).toMatchObject({
      ProxyTyp: 'Internet',
      WebIDEEnabled: 'true',
    });
  });

  it('startEmulator() refuses a scenario object by the same rules', async () => {
    await expect(startEmulator({ port: 0, scenario: { tenants: [provider()], tenant: 'x' } })).rejects.toThrow(
      /tenant: unknown key; did you mean `tenants`\?/,
    );
  });
});

describe('startEmulator() errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-validation-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing scenario file names its absolute path', async () => {
    const missing = join(dir, 'nope', 'emulator.scenario.yaml');
    const failed = startEmulator({ port: 0, scenario: missing });
    await expect(failed).rejects.toBeInstanceOf(ScenarioFileError);
    await expect(failed).rejects.toThrow(`cannot read the scenario file ${missing}: no such file`);
  });

  it('a scenario file with an unknown key names the file and the key', async () => {
    const file = join(dir, 'typo.scenario.yaml');
    writeFileSync(file, 'tenants:\n  - subdomain: provider\n    destinatons: []\n');
    await expect(startEmulator({ port: 0, scenario: file })).rejects.toThrow(
      `${file} is invalid: tenants[0].destinatons: unknown key; did you mean \`destinations\`?`,
    );
  });

  /** A port held by a plain net server on 127.0.0.1. */
  async function occupiedPort(): Promise<{ port: number; server: Server }> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as { port: number }).port, server };
  }

  it.each(['port', 'httpProxyPort', 'socksProxyPort', 'backendHttpPort', 'smtpPort', 'ldapPort'] as const)(
    'a port in use (%s) is named with its option and the fix',
    async (option) => {
      const { port, server } = await occupiedPort();
      try {
        const options = option === 'port' ? { port } : { port: 0, [option]: port };
        const failed = startEmulator(options);
        await expect(failed).rejects.toBeInstanceOf(PortInUseError);
        await expect(failed).rejects.toThrow(
          `port ${port} (${option}) is already in use on 127.0.0.1; stop the other process, or pass ${option}: 0 for a free one`,
        );
        await expect(failed).rejects.toMatchObject({ code: 'EADDRINUSE', port, option });
      } finally {
        server.close();
      }
    },
  );

  it.each([
    [{ maxBodyBytes: -5 }, 'maxBodyBytes must be a whole number of 1 or more, got -5'],
    [{ headersTimeoutMs: 0 }, 'headersTimeoutMs must be a whole number of 1 or more, got 0'],
    [{ journalMaxBytes: Number.NaN }, 'journalMaxBytes must be a whole number of 1 or more, got null'],
    [{ smtpMaxMessageBytes: 1.5 }, 'smtpMaxMessageBytes must be a whole number of 1 or more, got 1.5'],
    [{ httpProxyPort: 70000 }, 'httpProxyPort must be a port number from 0 to 65535 (0 picks a free port), got 70000'],
  ])('a numeric option out of range (%j) is refused naming it, as the CLI refuses its flag', async (option, message) => {
    await expect(startEmulator({ port: 0, ...option })).rejects.toThrow(message);
  });

  it('after a port in use, the ports it had opened are free again', async () => {
    const { port, server } = await occupiedPort();
    const free = await occupiedPort();
    free.server.close();
    try {
      await expect(startEmulator({ port: 0, backendHttpPort: free.port, socksProxyPort: port })).rejects.toBeInstanceOf(PortInUseError);
      const again = await startEmulator({ port: 0, backendHttpPort: free.port });
      expect(again.ports.backendHttp).toBe(free.port);
      await again.stop();
    } finally {
      server.close();
    }
  });
});
