/**
 * The Transparent Proxy's per-CR ports: a CR whose destination is `Type: TCP` gets a raw tunnel (through the
 * connectivity proxy's pipeline, journaled as a SOCKS5 hop) to the fake backend's TCP echo; one whose destination
 * is a MAIL destination gets an SMTP endpoint that takes the app's mail without credentials and hands it to the
 * SMTP sink with the destination's: AUTH PLAIN for Basic, AUTH XOAUTH2 with the lookup's token for OAuth types.
 * The listeners follow CRs and destinations changed at run time, and the CR's `spec.service.port` is used when
 * it is free (an emulator without `port: 0`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultScenarioFile, startEmulator, type EmulatorHandle, type JournalEntry } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';

type Json = Record<string, unknown>;
const apiVersion = 'destination.connectivity.api.sap/v1';
const tenantAnnotation = 'transparent-proxy.connectivity.api.sap/tenant-subdomains';

const cr = (name: string, destination: string, extra: Json = {}, metadata: Json = {}): Json => ({
  apiVersion,
  kind: 'Destination',
  metadata: { name, ...metadata },
  spec: { destinationRef: { name: destination }, ...extra },
});

const tcp = (Name: string, Address: string, extra: Json = {}): Json => ({
  Name,
  Type: 'TCP',
  ProxyType: 'OnPremise',
  Authentication: 'NoAuthentication',
  Address,
  ...extra,
});

const mail = (Name: string, extra: Json): Json => ({
  Name,
  Type: 'MAIL',
  ProxyType: 'OnPremise',
  'mail.transport.protocol': 'smtp',
  'mail.smtp.host': 'smtp.internal',
  'mail.smtp.port': '25',
  ...extra,
});

/** The bundled scenario (tcp.internal:7000 and smtp.internal:25 mapped as TCP) with TCP and mail destinations and CRs. */
function scenario(): Json {
  const s = parseYaml(readFileSync(defaultScenarioFile, 'utf8')) as Json & { tenants: Json[] };
  const provider = s.tenants[0] as { destinations: Json[]; cloudConnectors: { locationId: string; systems: Json[] }[] };
  const subscriber = s.tenants[1] as { destinations: Json[] };
  provider.destinations.push(
    tcp('ECHO_TCP', 'tcp://tcp.internal:7000'),
    tcp('ECHO_LOC1', 'tcp://tcp1.internal:7001', { CloudConnectorLocationId: 'LOC1' }),
    tcp('UNMAPPED_TCP', 'tcp://nowhere.internal:7000'),
    mail('MAIL_OAUTH', {
      Authentication: 'OAuth2ClientCredentials',
      tokenServiceURL: '{{services}}/oauth/token',
      clientId: 'backend-client',
      clientSecret: 'backend-client-secret',
      'mail.user': 'oauth-mailer@example.com',
    }),
    mail('MAIL_DIRECT', {
      ProxyType: 'Internet',
      Authentication: 'BasicAuthentication',
      'mail.smtp.host': '{{backendHost}}',
      'mail.smtp.port': '{{backendSmtpPort}}',
      'mail.user': 'direct-user',
      'mail.password': 'direct-password',
    }),
    mail('MAIL_UNMAPPED', { Authentication: 'NoAuthentication', 'mail.smtp.host': 'nowhere.internal' }),
  );
  // The subscriber's own destination and Cloud Connector (a per-tenant Service's tunnel is the tenant's).
  subscriber.destinations.push(tcp('ECHO_TCP', 'tcp://sub-tcp.internal:7100'));
  (subscriber as Json).cloudConnectors = [
    {
      locationId: '',
      online: true,
      systems: [
        {
          virtualHost: 'sub-tcp.internal',
          virtualPort: 7100,
          internalHost: '{{backendHost}}',
          internalPort: '{{backendTcpPort}}',
          protocol: 'TCP',
        },
      ],
    },
  ];
  provider.cloudConnectors
    .find((c) => c.locationId === 'LOC1')!
    .systems.push({
      virtualHost: 'tcp1.internal',
      virtualPort: 7001,
      internalHost: '{{backendHost}}',
      internalPort: '{{backendTcpPort}}',
      protocol: 'TCP',
    });
  s.destinationCustomResources = [
    cr('echo', 'ECHO_TCP', { service: { port: 7000 } }, { annotations: { [tenantAnnotation]: '["subscriber1"]' } }),
    cr('echo-loc1', 'ECHO_LOC1'),
    cr('unmapped', 'UNMAPPED_TCP', {}, { namespace: 'shop' }),
    cr('mail', 'ONPREM_MAIL', { service: { port: 587 } }),
    cr('mail-oauth', 'MAIL_OAUTH'),
    cr('mail-direct', 'MAIL_DIRECT'),
    cr('mail-unmapped', 'MAIL_UNMAPPED'),
    cr('orders', 'BACKEND_NOAUTH'),
    cr('any', '*'),
  ];
  return s;
}

/** Connect, send `data`, half-close, and collect everything until the proxy closes the connection. */
function exchange(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Whether something listens on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const tpEntries = (emu: EmulatorHandle, method: string): JournalEntry[] =>
  emu.journal({ service: 'transparent-proxy' }).filter((e) => e.method === method);

function sendMailTo(port: number, message: Json): Promise<{ accepted: unknown[]; response: string }> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  return transport.sendMail(message).finally(() => transport.close()) as Promise<{ accepted: unknown[]; response: string }>;
}

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: scenario() });
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
});

describe('which CRs get a port', () => {
  it('every Service of a TCP or mail CR, per tenant of the annotation; HTTP and dynamic CRs get an HTTP one', () => {
    const ports = emu.ports.transparentProxyCrs;
    expect(Object.keys(ports).sort()).toEqual(
      [
        'any.default',
        'orders.default',
        'echo-loc1.default',
        'echo-subscriber1.default',
        'echo.default',
        'mail-direct.default',
        'mail-oauth.default',
        'mail-unmapped.default',
        'mail.default',
        'unmapped.shop',
      ].sort(),
    );
    const values = Object.values(ports);
    expect(new Set(values).size).toBe(values.length);
    for (const port of values) expect(port).not.toBe(emu.ports.transparentProxy);
  });
});

describe('TCP CRs', () => {
  it('a raw tunnel to the TCP echo: the bytes that go in come back, through one SOCKS5 hop of the pipeline', async () => {
    const data = randomBytes(256 * 1024);
    const back = await exchange(emu.ports.transparentProxyCrs['echo.default'], data);
    expect(back.equals(data)).toBe(true);

    const [entry] = tpEntries(emu, 'TCP');
    expect(entry).toMatchObject({
      status: 200,
      path: 'echo.default',
      cr: 'default/echo',
      destination: 'ECHO_TCP',
      tenant: 'provider',
      proxyType: 'OnPremise',
      target: 'tcp.internal:7000',
      protocol: 'TCP',
      port: emu.ports.transparentProxyCrs['echo.default'],
    });
    const hop = await until(() => emu.journal({ service: 'socks5' }).find((e) => e.bytesFromBackend !== undefined), 'the relay counts');
    expect(hop).toMatchObject({
      status: 0,
      via: 'transparent-proxy',
      virtualTarget: 'tcp.internal:7000',
      correlationId: entry.correlationId,
    });
    expect(hop.bytesToBackend).toBe(data.length);
    expect(hop.bytesFromBackend).toBe(data.length);
    // The chain: the instance token, the lookup, the SOCKS5 hop, the proxy's own entry.
    expect(emu.chain(String(entry.correlationId))!.steps.map((s) => s.role)).toEqual(
      expect.arrayContaining(['lookup', 'socks5', 'transparent-proxy']),
    );
  });

  it('the location ID comes from the destination (LOC1 maps tcp1.internal)', async () => {
    const back = await exchange(emu.ports.transparentProxyCrs['echo-loc1.default'], Buffer.from('hello LOC1'));
    expect(back.toString()).toBe('hello LOC1');
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0, locationId: 'LOC1', virtualTarget: 'tcp1.internal:7001' });
  });

  it('a per-tenant Service is that tenant’s: the subscriber’s ECHO_TCP', async () => {
    const back = await exchange(emu.ports.transparentProxyCrs['echo-subscriber1.default'], Buffer.from('sub'));
    expect(back.toString()).toBe('sub');
    expect(tpEntries(emu, 'TCP').at(-1)).toMatchObject({ status: 200, tenant: 'subscriber1', cr: 'default/echo' });
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 0,
      tenant: 'subscriber1',
      virtualTarget: 'sub-tcp.internal:7100',
    });
  });

  it('a mapping the Cloud Connector lacks: the connection is closed, nothing comes back, the journal says why', async () => {
    const back = await exchange(emu.ports.transparentProxyCrs['unmapped.shop'], Buffer.from('anyone?'));
    expect(back.length).toBe(0);
    const entry = await until(() => tpEntries(emu, 'TCP').at(-1), 'the proxy entry');
    expect(entry).toMatchObject({
      status: 403,
      check: 'proxy',
      origin: 'Connectivity Proxy',
      destination: 'UNMAPPED_TCP',
      cr: 'shop/unmapped',
    });
    expect(String(entry.reason)).toMatch(/nowhere\.internal.*not mapped/);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 2, check: 'mapping', via: 'transparent-proxy' });
  });

  it('a drop fault on socks5 reaches the tunnel: closed, journaled as the fault', async () => {
    emu.addFault({ target: { service: 'socks5' }, effect: { drop: true } });
    const back = await exchange(emu.ports.transparentProxyCrs['echo.default'], Buffer.from('x'));
    expect(back.length).toBe(0);
    expect(tpEntries(emu, 'TCP').at(-1)).toMatchObject({ status: 502, check: 'proxy', origin: 'Connectivity Proxy' });
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 1, check: 'fault' });
  });

  it('the HTTP port still refuses a TCP CR: 400 "is of type TCP"', async () => {
    const status = await new Promise<{ code: number; message: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: emu.ports.transparentProxy, path: '/', headers: { host: 'echo.default' } },
        (res) => {
          res.resume();
          resolve({ code: res.statusCode!, message: String(res.headers['x-error-message']) });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status.code).toBe(400);
    expect(status.message).toMatch(/is of type TCP/);
  });
});

describe('listeners follow the CRs and destinations at run time', () => {
  it('PUT opens a port, DELETE closes it; both are journaled', async () => {
    await emu.control.putDestinationCr(cr('late', 'ECHO_TCP', {}, { namespace: 'ops' }) as never);
    const port = emu.ports.transparentProxyCrs['late.ops'];
    expect(port).toBeGreaterThan(0);
    expect((await exchange(port, Buffer.from('late'))).toString()).toBe('late');
    expect(tpEntries(emu, 'LISTEN').at(-1)).toMatchObject({ path: 'late.ops', cr: 'ops/late', protocol: 'TCP', port });

    await emu.control.removeDestinationCr('late', 'ops');
    expect(emu.ports.transparentProxyCrs['late.ops']).toBeUndefined();
    expect(await listening(port)).toBe(false);
    expect(tpEntries(emu, 'CLOSE').at(-1)).toMatchObject({ path: 'late.ops', port });
  });

  it('a reset brings back the scenario’s CRs only', async () => {
    await emu.control.putDestinationCr(cr('extra', 'ECHO_TCP') as never);
    expect(emu.ports.transparentProxyCrs['extra.default']).toBeGreaterThan(0);
    emu.reset();
    expect((await emu.transparentProxyCrPorts())['extra.default']).toBeUndefined();
    expect(emu.ports.transparentProxyCrs['echo.default']).toBeGreaterThan(0);
  });

  it('a destination created later turns its CR into a TCP CR (the Destination Service REST API)', async () => {
    await emu.control.putDestinationCr(cr('pending', 'PENDING_TCP') as never);
    expect(emu.ports.transparentProxyCrs['pending.default']).toBeUndefined();
    const created = await fetch(`${emu.urls.services}/destination-configuration/v1/subaccountDestinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await serviceToken(emu, 'destination')}`, 'content-type': 'application/json' },
      body: JSON.stringify(tcp('PENDING_TCP', 'tcp://tcp.internal:7000')),
    });
    expect(created.status).toBe(201);
    const port = emu.ports.transparentProxyCrs['pending.default'];
    expect(port).toBeGreaterThan(0);
    expect((await exchange(port, Buffer.from('now'))).toString()).toBe('now');
  });
});

describe('mail CRs (SMTP)', () => {
  it('BasicAuthentication: the app sends without credentials, the sink gets the mail with AUTH PLAIN as mail.user', async () => {
    const sent = await sendMailTo(emu.ports.transparentProxyCrs['mail.default'], {
      from: 'app@example.com',
      to: ['a@example.com', 'b@example.com'],
      subject: 'Through the Transparent Proxy',
      text: 'hello\n.\n.dotted line',
    });
    expect(sent.accepted).toEqual(['a@example.com', 'b@example.com']);
    const [received] = emu.onPrem.mails();
    expect(received).toMatchObject({
      from: 'app@example.com',
      to: ['a@example.com', 'b@example.com'],
      user: 'mailer',
      subject: 'Through the Transparent Proxy',
    });
    expect(received.raw).toContain('\r\n.dotted line');
    expect(tpEntries(emu, 'SMTP').at(-1)).toMatchObject({
      status: 200,
      destination: 'ONPREM_MAIL',
      mailAuth: 'PLAIN',
      recipients: 2,
      target: 'smtp.internal:25',
    });
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 0,
      via: 'transparent-proxy',
      virtualTarget: 'smtp.internal:25',
    });
  });

  it('OAuth2ClientCredentials: AUTH XOAUTH2 with the lookup’s token; the sink verifies it and records the XOAUTH2 user', async () => {
    await sendMailTo(emu.ports.transparentProxyCrs['mail-oauth.default'], {
      from: 'app@example.com',
      to: 'c@example.com',
      subject: 'oauth',
      text: 'x',
    });
    expect(emu.onPrem.mails()).toMatchObject([{ to: ['c@example.com'], user: 'oauth-mailer@example.com', subject: 'oauth' }]);
    const entry = tpEntries(emu, 'SMTP').at(-1)!;
    expect(entry).toMatchObject({ status: 200, destination: 'MAIL_OAUTH', mailAuth: 'XOAUTH2' });
    // The token came from the destination's client, through the lookup of this connection.
    const roles = emu.chain(String(entry.correlationId))!.steps.map((s) => s.role);
    expect(roles).toEqual(expect.arrayContaining(['lookup', 'token-flow', 'socks5', 'transparent-proxy']));
  });

  it('an Internet mail destination goes straight to its server', async () => {
    await sendMailTo(emu.ports.transparentProxyCrs['mail-direct.default'], { from: 'd@example.com', to: 'e@example.com', text: 'direct' });
    expect(emu.onPrem.mails()).toMatchObject([{ from: 'd@example.com', user: 'direct-user' }]);
    expect(tpEntries(emu, 'SMTP').at(-1)).toMatchObject({ status: 200, proxyType: 'Internet', mailAuth: 'PLAIN' });
    expect(emu.journal({ service: 'socks5' })).toEqual([]);
  });

  it('a mail server the Cloud Connector does not map: the app’s DATA is refused with the proxy’s reason, nothing is delivered', async () => {
    const error = (await sendMailTo(emu.ports.transparentProxyCrs['mail-unmapped.default'], {
      from: 'a@example.com',
      to: 'b@example.com',
      text: 'lost',
    }).catch((err: unknown) => err)) as { responseCode?: number; response?: string };
    expect(error.responseCode).toBe(554);
    expect(error.response).toMatch(
      /Transparent Proxy: The Connectivity Proxy refused the request: Access denied to system nowhere\.internal/,
    );
    expect(emu.onPrem.mails()).toEqual([]);
    expect(tpEntries(emu, 'SMTP').at(-1)).toMatchObject({ status: 403, origin: 'Connectivity Proxy', destination: 'MAIL_UNMAPPED' });
  });

  it('the sink refuses XOAUTH2 with a token the emulator did not sign (535), and takes one it did', async () => {
    const send = (accessToken: string): Promise<unknown> => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: emu.ports.smtp,
        secure: false,
        ignoreTLS: true,
        auth: { type: 'OAuth2', user: 'someone@example.com', accessToken },
      });
      return transport.sendMail({ from: 'x@example.com', to: 'y@example.com', text: 't' }).finally(() => transport.close());
    };
    const refused = (await send('not-a-token').catch((err: unknown) => err)) as { responseCode?: number };
    expect(refused.responseCode).toBe(535);
    expect(emu.onPrem.mails()).toEqual([]);
    await send(await serviceToken(emu, 'destination'));
    expect(emu.onPrem.mails()).toMatchObject([{ user: 'someone@example.com' }]);
  });
});

describe('the CR’s own port', () => {
  it('is used when it is above 1024 and free (not with port: 0); port 80 and a taken port get a free one; stop closes them', async () => {
    const [wanted, taken] = [await freePort(), await freePort()];
    const blocker = createServer().listen(taken, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const s = scenario();
    s.destinationCustomResources = [
      cr('echo', 'ECHO_TCP', { service: { port: wanted } }),
      cr('echo80', 'ECHO_TCP'),
      cr('echo-taken', 'ECHO_TCP', { service: { port: taken } }),
    ];
    const zero = {
      httpProxyPort: 0,
      socksProxyPort: 0,
      backendHttpPort: 0,
      backendTcpPort: 0,
      smtpPort: 0,
      ldapPort: 0,
      transparentProxyPort: 0,
      identityPort: 0,
    };
    const own = await startEmulator({ port: await freePort(), ...zero, scenario: s });
    try {
      const ports = own.ports.transparentProxyCrs;
      expect(ports['echo.default']).toBe(wanted);
      expect(ports['echo80.default']).not.toBe(80);
      expect(ports['echo-taken.default']).not.toBe(taken);
      expect((await exchange(wanted, Buffer.from('own port'))).toString()).toBe('own port');
    } finally {
      await own.stop();
      blocker.close();
    }
    expect(await listening(wanted)).toBe(false);
    expect(own.ports.transparentProxyCrs).toEqual({});
  });
});
