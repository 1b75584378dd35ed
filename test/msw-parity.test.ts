/**
 * One implementation, two faces: the same scenario served by `startEmulator` over a socket and by the MSW
 * handlers (resolved with MSW's own `getResponse`, no interception) must answer the same requests the same
 * way. Host names, token ids and times differ by nature and are normalised; everything else must match.
 */
import { decodeJwt } from 'jose';
import { getResponse } from 'msw';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { createBtpHandlers, type BtpHandlers } from '../emulator/msw/index.ts';
import { createSharedHandle, EmulatorCore, type SharedHandle } from '../emulator/app/index.ts';

const scenario = {
  name: 'parity',
  tenants: [
    {
      subdomain: 'provider',
      destinations: [
        { Name: 'ORDERS', Type: 'HTTP', URL: '{{backend}}/sap/orders', Authentication: 'NoAuthentication', ProxyType: 'Internet' },
        {
          Name: 'ORDERS_CC',
          Type: 'HTTP',
          URL: '{{backend}}/sap/orders',
          Authentication: 'OAuth2ClientCredentials',
          ProxyType: 'Internet',
          tokenServiceURL: '{{services}}/oauth/token',
          clientId: 'backend-client',
          clientSecret: 'backend-secret',
        },
      ],
    },
    {
      subdomain: 'subscriber1',
      destinations: [
        {
          Name: 'SUB_USER',
          Type: 'HTTP',
          URL: '{{backend}}/me',
          Authentication: 'OAuth2JWTBearer',
          ProxyType: 'Internet',
          tokenServiceURL: '{{services}}/oauth/token',
          clientId: 'backend-client',
          clientSecret: 'backend-secret',
        },
      ],
    },
  ],
  clients: [{ clientid: 'backend-client', clientsecret: 'backend-secret', xsappname: 'backend!t2', authorities: ['backend!t2.Read'] }],
  users: [{ name: 'alice', email: 'alice@example.com', scopes: ['Display'] }],
};

interface Face {
  name: string;
  /** Strings that name this face's hosts, longest first, and what they become. */
  hosts: [string, string][];
  send(path: string, init?: RequestInit & { host?: string }): Promise<Response>;
  binding(service: string): { clientid: string; clientsecret: string };
}

let emu: EmulatorHandle;
let btp: BtpHandlers;
let faces: Face[];

const bindingOf = (env: Record<string, string>, service: string): { clientid: string; clientsecret: string } =>
  (JSON.parse(env.VCAP_SERVICES) as Record<string, { credentials: { clientid: string; clientsecret: string } }[]>)[service][0].credentials;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario });
  btp = await createBtpHandlers(scenario);
  const socketFace: Face = {
    name: 'socket',
    hosts: [
      [emu.urls.backend, '<backend>'],
      [emu.urls.services, '<services>'],
      [emu.urls.uaaDomain, '<uaadomain>'],
    ],
    send: (path, init) => fetch(`${emu.urls.services}${path}`, init),
    binding: (service) => bindingOf(emu.env, service),
  };
  const mswFace: Face = {
    name: 'msw',
    hosts: [
      [btp.urls.backend, '<backend>'],
      [btp.urls.services, '<services>'],
      [btp.urls.uaaDomain, '<uaadomain>'],
    ],
    send: async (path, init) => {
      const response = await getResponse(btp.handlers, new Request(`${btp.urls.services}${path}`, init));
      if (!response) throw new Error(`the MSW handlers did not answer ${path}`);
      return response;
    },
    binding: (service) => bindingOf(btp.env, service),
  };
  faces = [socketFace, mswFace];
});

afterAll(async () => {
  await emu?.stop();
});

const volatileClaims = ['jti', 'iat', 'exp', 'auth_time', 'rev_sig', 'refresh_token'];

/** Hosts → placeholders; JWTs → their claims without ids and times; volatile fields → a marker. */
function normalise(value: unknown, face: Face): unknown {
  if (typeof value === 'string') {
    const jwt = /^(Bearer )?(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/.exec(value);
    if (jwt) return { scheme: jwt[1] ?? '', claims: normalise(decodeJwt(jwt[2]), face) };
    return face.hosts.reduce((text, [host, marker]) => text.split(host).join(marker), value);
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, face));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, volatileClaims.includes(k) ? '<volatile>' : normalise(v, face)]));
  }
  return value;
}

async function exchange(face: Face, path: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await face.send(path, init);
  const text = await response.text();
  const type = response.headers.get('content-type');
  return { status: response.status, type, body: normalise(type?.includes('json') ? JSON.parse(text) : text, face) };
}

async function bothFaces(run: (face: Face) => Promise<unknown>): Promise<[unknown, unknown]> {
  const [socket, msw] = faces;
  return [await run(socket), await run(msw)];
}

const basic = (c: { clientid: string; clientsecret: string }): string => `Basic ${btoa(`${c.clientid}:${c.clientsecret}`)}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

async function serviceToken(face: Face, tenant?: string): Promise<string> {
  const headers = { ...form, authorization: basic(face.binding('destination')), ...(tenant ? { 'x-zid': tenant } : {}) };
  const response = await face.send('/oauth/token', { method: 'POST', headers, body: 'grant_type=client_credentials' });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('the socket face and the MSW face answer alike', () => {
  it('a client_credentials token request', async () => {
    const [socket, msw] = await bothFaces((face) =>
      exchange(face, '/oauth/token', {
        method: 'POST',
        headers: { ...form, authorization: basic(face.binding('xsuaa')) },
        body: 'grant_type=client_credentials',
      }),
    );
    expect((socket as { status: number }).status).toBe(200);
    expect(msw).toEqual(socket);
  });

  it('a token request with a wrong secret: the same 401 body', async () => {
    const [socket, msw] = await bothFaces((face) =>
      exchange(face, '/oauth/token', {
        method: 'POST',
        headers: { ...form, authorization: basic({ ...face.binding('xsuaa'), clientsecret: 'wrong' }) },
        body: 'grant_type=client_credentials',
      }),
    );
    expect((socket as { status: number }).status).toBe(401);
    expect(msw).toEqual(socket);
  });

  it('a destination find, with authTokens from a token flow', async () => {
    for (const name of ['ORDERS', 'ORDERS_CC']) {
      const [socket, msw] = await bothFaces(async (face) =>
        exchange(face, `/destination-configuration/v1/destinations/${name}`, {
          headers: { authorization: `Bearer ${await serviceToken(face)}` },
        }),
      );
      expect((socket as { status: number }).status).toBe(200);
      expect(msw).toEqual(socket);
    }
  });

  it("a subscriber's find with a user token: the token flow runs for the subscriber on both faces", async () => {
    const [socket, msw] = await bothFaces(async (face) => {
      const zid = (face === faces[0] ? emu.core : btp.core).state.tenants[1].zid;
      const user = await (face === faces[0] ? emu.issueUserToken : btp.issueUserToken)({ user: 'alice', tenant: 'subscriber1' });
      return exchange(face, '/destination-configuration/v1/destinations/SUB_USER', {
        headers: { authorization: `Bearer ${await serviceToken(face, zid)}`, 'x-user-token': user },
      });
    });
    expect((socket as { body: { authTokens: { error?: string }[] } }).body.authTokens[0].error).toBeUndefined();
    expect(msw).toEqual(socket);
  });

  it('a find of a missing destination: the same 404', async () => {
    const [socket, msw] = await bothFaces(async (face) =>
      exchange(face, '/destination-configuration/v1/destinations/MISSING', {
        headers: { authorization: `Bearer ${await serviceToken(face)}` },
      }),
    );
    expect((socket as { status: number }).status).toBe(404);
    expect(msw).toEqual(socket);
  });

  it('control calls: user tokens, health, and the journal of everything so far', async () => {
    // Six journalled calls of its own, so the journal is not empty whichever order the tests run in.
    for (const tenant of ['subscriber1', 'provider', 'subscriber1', 'provider', 'subscriber1', 'provider']) {
      const [socketToken, mswToken] = await bothFaces((face) =>
        exchange(face, '/_emulator/users/token', { method: 'POST', body: JSON.stringify({ user: 'alice', tenant }) }),
      );
      expect((socketToken as { status: number }).status).toBe(200);
      expect(mswToken).toEqual(socketToken);
    }
    const [socketHealth, mswHealth] = await bothFaces((face) => exchange(face, '/_emulator/health'));
    expect(mswHealth).toEqual(socketHealth);
    const [socketJournal, mswJournal] = await bothFaces(async (face) => {
      const { body } = await exchange(face, '/_emulator/journal');
      return (body as { entries: { service: string; method: string; path: string; status: number; tenant?: string }[] }).entries.map(
        ({ service, method, path, status, tenant }) => ({ service, method, path, status, tenant }),
      );
    });
    expect((socketJournal as unknown[]).length).toBeGreaterThan(5);
    expect(mswJournal).toEqual(socketJournal);
  });
});

describe('one handle on both faces (emulator/app/handle.ts)', () => {
  /** What only a face adds on top of the shared handle: sockets and TLS for Node, handlers for MSW. */
  // What only a face with sockets has: its ports (the Transparent Proxy's per-CR ports among them), TLS material and stop.
  const ownMembers = { socket: ['caFile', 'control', 'ports', 'stop', 'transparentProxyCrPorts', 'urls'], msw: ['handlers', 'urls'] };

  it('each face is the shared handle plus its own members, nothing else: a method added to one face only fails here', async () => {
    const shared = Object.keys(createSharedHandle(await EmulatorCore.create())).sort();
    expect(shared).toEqual(expect.arrayContaining(['env', 'issueUserToken', 'reset', 'loadScenario', 'journal', 'addStub', 'onPrem']));
    expect(Object.keys(emu).sort()).toEqual([...shared, ...ownMembers.socket].sort());
    expect(Object.keys(btp).sort()).toEqual([...shared, ...ownMembers.msw].sort());
    expect(Object.keys(btp.onPrem).sort()).toEqual(Object.keys(emu.onPrem).sort());
    for (const name of shared) expect(typeof btp[name as keyof BtpHandlers], name).toBe(typeof emu[name as keyof EmulatorHandle]);
    // env is a getter on both (always current), not a value copied when the face was built.
    expect(Object.getOwnPropertyDescriptor(emu, 'env')?.get).toBeTypeOf('function');
    expect(Object.getOwnPropertyDescriptor(btp, 'env')?.get).toBeTypeOf('function');
  });

  it('every change made through the handle tells the change listeners, on both faces alike (the MSW addStub did not)', async () => {
    const changes: Record<string, (handle: SharedHandle) => unknown> = {
      addStub: (h) => h.addStub({ id: 'parity-stub', method: 'GET', path: '/parity', body: { ok: true } }),
      'onPrem.addStub': (h) => h.onPrem.addStub({ id: 'parity-stub', method: 'GET', path: '/parity' }),
      'onPrem.removeStub': (h) => h.onPrem.removeStub('parity-stub'),
      'onPrem.clearStubs': (h) => h.onPrem.clearStubs(),
      'onPrem.putConnector': (h) => h.onPrem.putConnector({ locationId: 'PARITY' }),
      'onPrem.setConnectorOnline': (h) => h.onPrem.setConnectorOnline({ locationId: 'PARITY', online: false }),
      'onPrem.removeConnector': (h) => h.onPrem.removeConnector('PARITY'),
      'onPrem.clearMails': (h) => h.onPrem.clearMails(),
      clock: (h) => h.clock({ action: 'freeze' }),
      'clock real': (h) => h.clock({ action: 'real' }),
      addFault: (h) => h.addFault({ id: 'parity-fault', target: { service: 'backend', path: '/parity' }, effect: { status: 503 } }),
      removeFault: (h) => h.removeFault('parity-fault'),
      clearFaults: (h) => h.clearFaults(),
      rotateSigningKey: (h) => h.rotateSigningKey(),
      restoreSnapshot: async (h) => h.restoreSnapshot(await h.snapshot()),
      loadScenario: (h) => h.loadScenario(scenario),
      reset: (h) => h.reset(),
    };
    const heard = { socket: [] as string[], msw: [] as string[] };
    for (const [face, handle] of [
      ['socket', emu],
      ['msw', btp],
    ] as const) {
      let current = '';
      const unsubscribe = handle.core.onChange(() => void heard[face].push(current));
      try {
        for (const [name, change] of Object.entries(changes)) {
          current = name;
          await change(handle);
        }
        // Reading changes nothing, and tells nobody.
        current = 'reads';
        handle.clock();
        handle.faults();
        handle.onPrem.connectors();
        handle.journal();
        await handle.snapshot();
      } finally {
        unsubscribe();
      }
    }
    expect(heard.socket).toEqual(Object.keys(changes));
    expect(heard.msw).toEqual(heard.socket);
  });
});
