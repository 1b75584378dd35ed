/**
 * The LDAP system behind the Cloud Connector: the fake backend's directory (20389, seeded from the scenario's
 * `backend.ldap`), reached by a real LDAP client (ldapts) through the SOCKS5 port (SAP's method 0x80) and the
 * default scenario's LDAP mapping `ldap.internal:389`. Simple bind, search by scope and filter, wrong passwords,
 * anonymous access, writes (refused), an unmapped host refused at the proxy, the journal's hop, and the
 * scenario's validation of the directory.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Client, InsufficientAccessError, InvalidCredentialsError, NoSuchObjectError, UnwillingToPerformError } from 'ldapts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, validateScenario, type EmulatorHandle } from '../emulator/index.ts';
import { ValidationError } from '../emulator/core/validation.ts';
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';
import { serviceToken } from './helpers.ts';
import { sapSocksConnect } from './socks5-client.ts';

let emu: EmulatorHandle;
const clients: Client[] = [];

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(async () => {
  emu.reset();
  await Promise.all(clients.splice(0).map((c) => c.unbind().catch(() => undefined)));
});

/** An ldapts client whose connection is a tunnel through the emulator's SOCKS5 port to `host:port` (virtual). */
async function clientVia(host = 'ldap.internal', port = 389, locationId = ''): Promise<Client> {
  const token = await serviceToken(emu, 'connectivity');
  const tunnel = await sapSocksConnect(emu.ports.socks5, token, { host, port }, { timeout: 5000, locationId });
  // ldapts takes an open socket as its connection (createConnection); the URL only names the virtual host.
  const client = new Client({ url: `ldap://${host}:${port}`, timeout: 5000, createConnection: (() => tunnel) as never });
  clients.push(client);
  return client;
}

const admin = { dn: 'cn=admin,dc=example,dc=com', password: 'admin-password' };

describe('LDAP through the Cloud Connector (SOCKS5 0x80 → ldap.internal:389 → the fake directory)', () => {
  it('binds and searches the subtree with an and/substring/presence filter', async () => {
    const client = await clientVia();
    await client.bind(admin.dn, admin.password);
    const { searchEntries } = await client.search('dc=example,dc=com', {
      scope: 'sub',
      filter: '(&(objectClass=inetOrgPerson)(mail=*@example.com)(cn=*Example))',
      attributes: ['cn', 'mail'],
    });
    expect(searchEntries.map((e) => e.dn).sort()).toEqual(['uid=alice,ou=people,dc=example,dc=com', 'uid=bob,ou=people,dc=example,dc=com']);
    const alice = searchEntries.find((e) => e.dn.startsWith('uid=alice'));
    expect(alice).toEqual({ dn: 'uid=alice,ou=people,dc=example,dc=com', cn: 'Alice Example', mail: 'alice@example.com' });
  });

  it('honours the scopes (base, one, sub) and or/equality filters on groups', async () => {
    const client = await clientVia();
    await client.bind('uid=alice,ou=people,dc=example,dc=com', 'alice-password');
    const one = await client.search('dc=example,dc=com', { scope: 'one', filter: '(objectClass=*)' });
    expect(one.searchEntries.map((e) => e.dn)).toEqual(['ou=people,dc=example,dc=com', 'ou=groups,dc=example,dc=com']);
    const base = await client.search('uid=bob,ou=people,dc=example,dc=com', { scope: 'base' });
    expect(base.searchEntries).toHaveLength(1);
    expect(base.searchEntries[0]).toMatchObject({ uid: 'bob', sn: 'Example' });
    const groups = await client.search('ou=groups,dc=example,dc=com', {
      scope: 'sub',
      filter: '(|(member=uid=bob,ou=people,dc=example,dc=com)(cn=edit*))',
      attributes: ['cn'],
    });
    expect(groups.searchEntries.map((e) => e.cn).sort()).toEqual(['editors', 'viewers']);
    const none = await client.search('dc=example,dc=com', { scope: 'sub', filter: '(uid=carol)' });
    expect(none.searchEntries).toEqual([]);
    await expect(client.search('ou=nowhere,dc=example,dc=com', { scope: 'sub' })).rejects.toBeInstanceOf(NoSuchObjectError);
  });

  it('refuses a wrong password and an unknown user (invalidCredentials), then still binds with the right one', async () => {
    const client = await clientVia();
    await expect(client.bind(admin.dn, 'wrong-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(client.bind('cn=nobody,dc=example,dc=com', 'admin-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await client.bind(admin.dn, admin.password);
    expect((await client.search('dc=example,dc=com', { scope: 'base' })).searchEntries).toHaveLength(1);
  });

  it('refuses anonymous search and every write: read-only directory', async () => {
    const client = await clientVia();
    await expect(client.search('dc=example,dc=com', { scope: 'sub' })).rejects.toBeInstanceOf(InsufficientAccessError);
    const entry = { objectClass: ['top', 'person'], cn: 'carol', sn: 'Carol' };
    await expect(client.add('cn=carol,ou=people,dc=example,dc=com', entry)).rejects.toBeInstanceOf(InsufficientAccessError);
    await client.bind(admin.dn, admin.password);
    await expect(client.add('cn=carol,ou=people,dc=example,dc=com', entry)).rejects.toBeInstanceOf(UnwillingToPerformError);
    await expect(client.del('uid=bob,ou=people,dc=example,dc=com')).rejects.toBeInstanceOf(UnwillingToPerformError);
    const { searchEntries } = await client.search('ou=people,dc=example,dc=com', { scope: 'one', filter: '(objectClass=person)' });
    expect(searchEntries).toHaveLength(2);
  });

  it('stops at sizeLimit and refuses an unauthenticated bind (a DN without password)', async () => {
    const client = await clientVia();
    await expect(client.bind(admin.dn, '')).rejects.toBeInstanceOf(UnwillingToPerformError);
    await client.bind(admin.dn, admin.password);
    // The directory answers sizeLimitExceeded after two entries; ldapts hands over the entries it got.
    expect((await client.search('dc=example,dc=com', { scope: 'sub', sizeLimit: 2 })).searchEntries).toHaveLength(2);
    expect((await client.search('dc=example,dc=com', { scope: 'sub', sizeLimit: 100 })).searchEntries).toHaveLength(7);
  });

  /** Whether the directory port closes a connection that sent `bytes` (within 3 s). */
  const closesAfter = (bytes: number[]): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(emu.ports.ldap, '127.0.0.1', () => socket.write(Buffer.from(bytes)));
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.on('close', () => resolve(true));
      setTimeout(() => {
        socket.destroy();
        resolve(false);
      }, 3000);
    });

  it('closes a connection that sends no LDAP or announces a 2 GiB message, and keeps serving', async () => {
    expect(await closesAfter([0x01, 0x02, 0x03, 0x04])).toBe(true);
    expect(await closesAfter([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])).toBe(true);
    const client = await clientVia();
    await client.bind(admin.dn, admin.password);
  });

  it('refuses the mapping while the connector is offline (reply 03)', async () => {
    emu.onPrem.setConnectorOnline({ online: false });
    await expect(clientVia()).rejects.toThrow(/NetworkUnreachable|unreachable/i);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 3, check: 'offline', virtualTarget: 'ldap.internal:389' });
  });

  it('journals the SOCKS5 hop with the virtual host, the LDAP protocol and the directory as internal target', async () => {
    const client = await clientVia();
    await client.bind(admin.dn, admin.password);
    await client.unbind();
    await expect.poll(() => emu.journal({ service: 'socks5' }).at(-1)?.bytesFromBackend, { timeout: 5000 }).toBeGreaterThan(0);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 0,
      tenant: 'provider',
      virtualTarget: 'ldap.internal:389',
      protocol: 'LDAP',
      internalTarget: `127.0.0.1:${emu.ports.ldap}`,
    });
  });

  it('refuses an unmapped host at the proxy (SOCKS5 reply 02) and names it in the journal', async () => {
    await expect(clientVia('ldap.elsewhere', 389)).rejects.toThrow(/NotAllowed|not allowed/i);
    const entry = emu.journal({ service: 'socks5' }).at(-1);
    expect(entry).toMatchObject({ status: 2, check: 'mapping', virtualTarget: 'ldap.elsewhere:389' });
    expect(String(entry?.reason)).toContain('`ldap.elsewhere:389` is not mapped');
    // The directory's real port is no virtual host either: only the mapping makes it reachable.
    await expect(clientVia('ldap.internal', 636)).rejects.toThrow(/NotAllowed|not allowed/i);
  });
});

describe('an LDAPS mapping: the connector speaks TLS to the internal host', () => {
  let terminator: TlsServer;
  const sessions: string[] = [];
  const open = new Set<TLSSocket>();
  beforeAll(async () => {
    // A TLS front of the fake directory (which speaks plain LDAP), with a certificate of its own: the emulator does
    // not verify internal hosts' certificates, as the Cloud Connector's LDAPS does not by default.
    const tls = ensureTlsMaterial(join(mkdtempSync(join(tmpdir(), 'btp-emulator-ldaps-')), 'tls'));
    terminator = createTlsServer({ key: tls.keyPem, cert: tls.certPem }, (socket: TLSSocket) => {
      sessions.push(socket.getProtocol() ?? '');
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      const directory = connect(emu.ports.ldap, '127.0.0.1');
      socket.pipe(directory).pipe(socket);
      socket.on('error', () => directory.destroy());
      directory.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => terminator.close(() => resolve()));
  });

  it('binds and searches over LDAPS to the internal host, and journals protocol LDAPS', async () => {
    const port = (terminator.address() as { port: number }).port;
    emu.onPrem.putConnector({
      locationId: 'SECURE',
      systems: [{ virtualHost: 'ldaps.internal', virtualPort: 636, internalHost: '127.0.0.1', internalPort: port, protocol: 'LDAPS' }],
    });
    const client = await clientVia('ldaps.internal', 636, 'SECURE');
    await client.bind(admin.dn, admin.password);
    const { searchEntries } = await client.search('ou=people,dc=example,dc=com', {
      scope: 'one',
      filter: '(uid=alice)',
      attributes: ['mail'],
    });
    expect(searchEntries).toEqual([{ dn: 'uid=alice,ou=people,dc=example,dc=com', mail: 'alice@example.com' }]);
    expect(sessions.at(-1)).toMatch(/^TLSv1\.[23]$/);
    expect(open.size).toBe(1);
    // The unbind closes the tunnel end to end: the connector's TLS connection to the internal host ends too.
    await client.unbind();
    await expect.poll(() => open.size, { timeout: 5000 }).toBe(0);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 0,
      locationId: 'SECURE',
      virtualTarget: 'ldaps.internal:636',
      protocol: 'LDAPS',
    });
  });

  it('an LDAPS mapping to the plain directory fails the TLS handshake: SOCKS5 reply 04, check backend', async () => {
    emu.onPrem.putConnector({
      locationId: 'SECURE',
      systems: [
        {
          virtualHost: 'ldaps.internal',
          virtualPort: 636,
          internalHost: '{{backendHost}}',
          internalPort: '{{backendLdapPort}}',
          protocol: 'LDAPS',
        },
      ],
    });
    await expect(clientVia('ldaps.internal', 636, 'SECURE')).rejects.toThrow(/HostUnreachable|unreachable/i);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 4, check: 'backend', virtualTarget: 'ldaps.internal:636' });
  });
});

describe('a directory of another scenario', () => {
  const scenario = {
    name: 'ldap-only',
    tenants: [
      {
        subdomain: 'provider',
        cloudConnectors: [
          {
            systems: [
              {
                virtualHost: 'dir.corp',
                virtualPort: 389,
                internalHost: '{{backendHost}}',
                internalPort: '{{backendLdapPort}}',
                protocol: 'LDAP',
              },
            ],
          },
        ],
      },
    ],
    bindings: [{ name: 'c', service: 'connectivity' }],
    backend: {
      ldap: {
        baseDn: 'o=corp',
        anonymousSearch: true,
        entries: [{ dn: 'cn=printer,o=corp', attributes: { objectClass: 'device', description: ['2nd floor'] } }],
      },
    },
  };
  let corp: EmulatorHandle;
  beforeAll(async () => {
    corp = await startEmulator({ port: 0, scenario });
  });
  afterAll(async () => {
    await corp?.stop();
  });

  it('serves its entries (anonymous search allowed there), and a refused scenario changes nothing', async () => {
    const bad = { ...scenario, backend: { ldap: { ...scenario.backend.ldap, entries: [{ dn: 'cn=x,o=other' }] } } };
    const refused = await fetch(`${corp.urls.control}/scenario`, { method: 'POST', body: JSON.stringify(bad) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain(
      'backend.ldap.entries[0].dn: dn cn=x,o=other is not under baseDn o=corp',
    );
    const token = await serviceToken(corp, 'connectivity');
    const tunnel = await sapSocksConnect(corp.ports.socks5, token, { host: 'dir.corp', port: 389 }, { timeout: 5000 });
    const client = new Client({ url: 'ldap://dir.corp:389', timeout: 5000, createConnection: (() => tunnel) as never });
    try {
      const { searchEntries } = await client.search('o=corp', { scope: 'sub', filter: '(cn=printer)' });
      expect(searchEntries).toEqual([{ dn: 'cn=printer,o=corp', objectClass: 'device', description: '2nd floor', cn: 'printer' }]);
      await expect(client.bind('cn=admin,dc=example,dc=com', 'admin-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });
});

describe('the scenario’s backend.ldap', () => {
  function issuesOf(ldap: unknown): { path: string; message: string }[] {
    try {
      validateScenario({ tenants: [{ subdomain: 'provider' }], backend: { ldap } });
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues;
    }
    throw new Error('the scenario was accepted');
  }

  it.each([
    [{ baseDn: 'not a dn' }, 'backend.ldap.baseDn', 'baseDn must be a DN such as dc=example,dc=com'],
    [{ baseDn: 'dc=example', entries: [{ dn: 'uid=a' }] }, 'backend.ldap.entries[0].dn', 'dn uid=a is not under baseDn dc=example'],
    [
      { baseDn: 'dc=example', entries: [{ dn: 'uid=a,ou=people,dc=example' }] },
      'backend.ldap.entries[0].dn',
      'the parent ou=people,dc=example of uid=a,ou=people,dc=example is not an entry; list it before its children',
    ],
    [
      { baseDn: 'dc=example', entries: [{ dn: 'cn=a,dc=example' }, { dn: 'CN=A, dc=Example' }] },
      'backend.ldap.entries[1].dn',
      'listed twice',
    ],
    [
      { baseDn: 'dc=example', entries: [{ dn: 'cn=a,dc=example', attributes: { 'bad name': 'x' } }] },
      'backend.ldap.entries[0].attributes.bad name',
      'attribute name',
    ],
    [{ baseDn: 'dc=example', bindUsers: [{ dn: 'cn=admin,dc=example' }] }, 'backend.ldap.bindUsers[0].password', ''],
    [{ baseDn: 'dc=example', bindUser: [] }, 'backend.ldap.bindUser', 'did you mean `bindUsers`?'],
  ])('refuses %j at %s', (ldap, path, message) => {
    const issues = issuesOf(ldap);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('starts no emulator with a bad directory: the error names the field', async () => {
    await expect(
      startEmulator({
        port: 0,
        scenario: { tenants: [{ subdomain: 'provider' }], backend: { ldap: { baseDn: 'dc=x', entries: [{ dn: 'oops' }] } } },
      }),
    ).rejects.toThrow('backend.ldap.entries[0].dn: dn must be a DN');
  });
});
