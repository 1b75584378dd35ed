/**
 * Fault injection as real clients see it: the SAP Cloud SDK (unmodified) retrying past a one-off 503 of the
 * Destination Service, of a destination's token service and of an on-prem route; its circuit breaker opening
 * after repeated failures; latency, dropped connections, 429 with Retry-After, tokens that expire early, a
 * Cloud Connector going offline and back (HTTP proxy and SOCKS5). Every faulted request is in the journal.
 */
import { request as httpRequest } from 'node:http';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { resilience } from '@sap-cloud-sdk/resilience';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { binding, postForm, serviceToken } from './helpers.ts';
import { sapSocksConnect } from './socks5-client.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
  emu.clock({ action: 'real' });
});

const control = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`${emu.urls.control}${path}`, init);
const addFault = async (spec: unknown): Promise<{ id: string }> => {
  const res = await control('/faults', { method: 'POST', body: JSON.stringify(spec) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string };
};

/** The error of a call that must fail. */
async function failure(call: Promise<unknown>): Promise<Error & { cause?: unknown; code?: string }> {
  try {
    await call;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

/** The innermost cause of an SDK error (the SDK wraps axios' and the breaker's errors). */
function rootCause(err: unknown): { message?: string; code?: string; response?: { status: number; headers: Record<string, string> } } {
  let current = err as { cause?: unknown };
  while (current.cause) current = current.cause as { cause?: unknown };
  return current as ReturnType<typeof rootCause>;
}

const lookups = (name: string) => emu.journal({ service: 'destination', destination: name });

describe('control API: /_emulator/faults', () => {
  it('adds (201 with id), lists, reads, removes (204, then 404) and clears; a bad body names the field and changes nothing', async () => {
    const created = (await addFault({
      id: 'slow-dest',
      target: { service: 'destination', destination: 'X' },
      effect: { latencyMs: 5 },
      times: 2,
    })) as Record<string, unknown>;
    expect(created).toMatchObject({
      id: 'slow-dest',
      target: { service: 'destination', destination: 'X' },
      effect: { latencyMs: 5 },
      times: 2,
      remaining: 2,
      hits: 0,
    });
    const generated = await addFault({ target: { service: 'xsuaa', method: 'post' }, effect: { status: 503 } });
    expect(generated.id).toMatch(/^fault-\d+$/);

    const bad = await control('/faults', {
      method: 'POST',
      body: JSON.stringify({ target: { service: 'backend', destination: 'X' }, effect: { status: 200 } }),
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { issues: { path: string; message: string }[] };
    expect(problem.issues.map((i) => i.path).sort()).toEqual(['effect.status', 'target.destination']);
    expect((await control('/faults', { method: 'POST', body: '{"effect":{"drop":true,"status":500}}' })).status).toBe(400);
    expect(
      (await control('/faults', { method: 'POST', body: '{"effect":{"tokenValidity":5},"target":{"service":"destination"}}' })).status,
    ).toBe(400);
    expect((await control('/faults', { method: 'POST', body: 'not json' })).status).toBe(400);

    const list = (await (await control('/faults')).json()) as { faults: { id: string; target: { method?: string } }[] };
    expect(list.faults.map((f) => f.id)).toEqual(['slow-dest', generated.id]);
    expect(list.faults[1].target.method).toBe('POST');
    expect(await (await control('/faults/slow-dest')).json()).toMatchObject({ id: 'slow-dest' });
    expect((await control('/faults/slow-dest', { method: 'DELETE' })).status).toBe(204);
    expect((await control('/faults/slow-dest', { method: 'DELETE' })).status).toBe(404);
    expect((await control('/faults/slow-dest')).status).toBe(404);
    expect((await control('/faults', { method: 'DELETE' })).status).toBe(204);
    expect(emu.faults()).toEqual([]);
  });

  it('the handle adds and removes faults; reset clears them; times and durationMs expire them by themselves', async () => {
    const fault = emu.addFault({ target: { service: 'xsuaa', path: '/token_keys' }, effect: { status: 500 }, times: 1 });
    expect(emu.faults()).toHaveLength(1);
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(500);
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(200);
    expect(emu.faults()).toEqual([]);
    expect(emu.removeFault(fault.id)).toBe(false);

    emu.addFault({ id: 'window', target: { service: 'xsuaa', path: '/token_keys' }, effect: { status: 502 }, durationMs: 60_000 });
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(502);
    emu.clock({ action: 'advance', by: '61s' });
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(200);
    expect(emu.faults()).toEqual([]);

    emu.addFault({ effect: { drop: true } });
    expect(() => emu.addFault({ effect: { latencyMs: -1 } } as never)).toThrow(/effect\.latencyMs/);
    expect((await control('/reset', { method: 'POST' })).status).toBe(200);
    expect(emu.faults()).toEqual([]);
  });

  it('never faults the control API itself, so a catch-all fault can be removed', async () => {
    emu.addFault({ id: 'all', effect: { status: 503 } });
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(503);
    expect((await control('/faults/all', { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${emu.urls.services}/token_keys`)).status).toBe(200);
  });
});

describe('the SAP Cloud SDK against faults', () => {
  it('retry: the lookup with token retrieval answering 503 once is retried and succeeds; without retry it fails', async () => {
    // For an OAuth destination the SDK looks up twice: a search ($skipTokenRetrieval=true, never retried), then the
    // lookup that fetches the token (retried with `retry: true`). skip: 1 lets the search through.
    const fault = await addFault({
      target: { service: 'destination', destination: 'BACKEND_OAUTH' },
      effect: { status: 503 },
      skip: 1,
      times: 1,
    });
    const destination = await getDestination({ destinationName: 'BACKEND_OAUTH', useCache: false, retry: true });
    expect(destination?.authTokens?.[0]).toMatchObject({ type: 'Bearer', error: null });
    expect(lookups('BACKEND_OAUTH').map((e) => [e.path.includes('skipTokenRetrieval'), e.status, e.fault, e.faultEffect])).toEqual([
      [true, 200, undefined, undefined],
      [false, 503, fault.id, 'status'],
      [false, 200, undefined, undefined],
    ]);

    await addFault({ target: { service: 'destination', destination: 'BACKEND_OAUTH' }, effect: { status: 503 }, skip: 1, times: 1 });
    const err = await failure(getDestination({ destinationName: 'BACKEND_OAUTH', useCache: false }));
    expect(rootCause(err).response?.status).toBe(503);
  });

  it('retry does not cover the search lookup: a 503 there fails getDestination even with retry: true', async () => {
    const fault = await addFault({ target: { service: 'destination', destination: 'BACKEND_NOAUTH' }, effect: { status: 503 }, times: 1 });
    const err = await failure(getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false, retry: true }));
    expect(rootCause(err).response?.status).toBe(503);
    expect(lookups('BACKEND_NOAUTH').map((e) => [e.status, e.fault])).toEqual([[503, fault.id]]);
    expect((await getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false }))?.url).toBe(emu.urls.backend);
  });

  it("retry: the destination's token service failing once leaves an error in authTokens; the SDK looks up again and gets a token", async () => {
    // Only the destination's own client (backend-client): the SDK's service token for the Destination Service is not touched.
    const fault = await addFault({
      target: { service: 'xsuaa', clientId: 'backend-client', path: '/oauth/token' },
      effect: { status: 503 },
      times: 1,
    });
    const destination = await getDestination({ destinationName: 'BACKEND_OAUTH', useCache: false, retry: true });
    expect(destination?.authTokens?.[0]).toMatchObject({ type: 'Bearer', error: null });
    const tokenCalls = emu.journal({ service: 'xsuaa' }).filter((e) => e.clientId === 'backend-client' || e.fault === fault.id);
    expect(tokenCalls.map((e) => [e.status, e.fault])).toEqual([
      [503, fault.id],
      [200, undefined],
    ]);
    // The search, the lookup whose authTokens carried the token service's error, and the retried lookup.
    expect(lookups('BACKEND_OAUTH').map((e) => [e.path.includes('skipTokenRetrieval'), e.status])).toEqual([
      [true, 200],
      [false, 200],
      [false, 200],
    ]);
  });

  it("the SDK's own service token: a token endpoint failing once fails that lookup (the SDK does not retry it), the next one works", async () => {
    const clientid = binding(emu, 'destination').clientid;
    const fault = await addFault({ target: { service: 'xsuaa', clientId: clientid }, effect: { status: 503 }, times: 1 });
    const err = await failure(getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false, retry: true }));
    expect(String(err.message) + String(rootCause(err).message)).toMatch(/token|503/i);
    expect(lookups('BACKEND_NOAUTH')).toHaveLength(0);
    expect(emu.journal({ service: 'xsuaa' }).at(-1)).toMatchObject({ status: 503, fault: fault.id, faultEffect: 'status' });
    expect((await getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false }))?.url).toBe(emu.urls.backend);
  });

  it('circuit breaker: after 10 failed lookups of a destination the SDK stops calling the Destination Service; it stays open after the fault is gone', async () => {
    const fault = await addFault({ target: { service: 'destination', destination: 'BACKEND_BASIC' }, effect: { status: 503 } });
    for (let i = 0; i < 10; i++)
      expect(rootCause(await failure(getDestination({ destinationName: 'BACKEND_BASIC', useCache: false }))).response?.status).toBe(503);
    expect(lookups('BACKEND_BASIC')).toHaveLength(10);
    expect(lookups('BACKEND_BASIC').every((e) => e.fault === fault.id && e.status === 503)).toBe(true);

    const open = rootCause(await failure(getDestination({ destinationName: 'BACKEND_BASIC', useCache: false })));
    expect(open).toMatchObject({ code: 'EOPENBREAKER', message: 'Breaker is open' });
    emu.removeFault(fault.id);
    expect(rootCause(await failure(getDestination({ destinationName: 'BACKEND_BASIC', useCache: false }))).code).toBe('EOPENBREAKER');
    expect(lookups('BACKEND_BASIC')).toHaveLength(10);
    // Another destination has its own breaker and is served.
    expect((await getDestination({ destinationName: 'BACKEND_NOAUTH', useCache: false }))?.url).toBe(emu.urls.backend);
  });

  it('retry through the connectivity proxy: an on-prem route answering 503 once is retried and succeeds', async () => {
    const fault = await addFault({
      target: { service: 'backend', path: '/sap/bc/flaky', method: 'GET' },
      effect: { status: 503, body: 'busy' },
      times: 1,
    });
    const res = await executeHttpRequest(
      { destinationName: 'ONPREM_BASIC', useCache: false },
      { method: 'get', url: '/sap/bc/flaky', middleware: resilience({ retry: true, circuitBreaker: false }) },
    );
    expect(res.status).toBe(200);
    expect((res.data as EchoBody).path).toBe('/sap/bc/flaky');
    const backend = emu.journal({ service: 'backend' });
    expect(backend).toHaveLength(1);
    expect(backend[0]).toMatchObject({ status: 503, path: '/sap/bc/flaky', fault: fault.id, faultEffect: 'status' });
    const proxied = emu.journal({ service: 'connectivity-proxy' });
    expect(proxied.map((e) => e.status)).toEqual([503, 200]);
    expect(proxied[0].correlationId).toBe(backend[0].correlationId);
  });

  it('429: the SDK does not retry a rate-limited route (4xx) and sees Retry-After', async () => {
    emu.clock({ action: 'freeze' }); // Retry-After counts on the emulator clock: frozen, it is exactly the window (beforeEach returns to real time)
    await addFault({ target: { service: 'backend', path: '/limited' }, effect: { rateLimit: { limit: 1, windowMs: 30_000 } } });
    const call = () =>
      executeHttpRequest(
        { destinationName: 'BACKEND_NOAUTH', useCache: false },
        { method: 'get', url: '/limited', middleware: resilience({ retry: true, circuitBreaker: false }) },
      );
    expect((await call()).status).toBe(200);
    const limited = rootCause(await failure(call()));
    expect(limited.response?.status).toBe(429);
    expect(limited.response?.headers['retry-after']).toBe('30');
    expect(emu.journal({ service: 'backend' }).map((e) => [e.status, e.faultEffect])).toEqual([[429, 'rateLimit']]);
  });
});

describe('each fault kind as a plain client sees it', () => {
  it('latency: a slow token endpoint and a slow lookup take as long, and the journal says so', async () => {
    const slowToken = await addFault({ target: { service: 'xsuaa', path: '/oauth/token' }, effect: { latencyMs: 300 }, times: 1 });
    const started = performance.now();
    const token = await serviceToken(emu, 'destination');
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    const entry = emu.journal({ service: 'xsuaa' }).at(-1)!;
    expect(entry).toMatchObject({ status: 200, fault: slowToken.id, faultEffect: 'latency' });
    expect(entry.durationMs).toBeGreaterThanOrEqual(290);

    await addFault({ target: { service: 'destination', destination: 'BACKEND_NOAUTH' }, effect: { latencyMs: 250 } });
    const t0 = performance.now();
    const res = await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    // Another destination is not slowed: its lookup met no fault (the journal says which fault delayed a request).
    expect(
      (
        await fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_BASIC`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);
    const unfaulted = lookups('BACKEND_BASIC').at(-1)!;
    expect(unfaulted.status).toBe(200);
    expect(unfaulted.fault).toBeUndefined();
    expect(unfaulted.faultEffect).toBeUndefined();
    expect(lookups('BACKEND_NOAUTH').at(-1)!.durationMs).toBeGreaterThanOrEqual(240);
  });

  it('drop: fetch sees a network error (no status), the emulator keeps serving, the journal has status 0', async () => {
    const token = await serviceToken(emu, 'destination');
    const fault = await addFault({ target: { service: 'destination', destination: 'BACKEND_NOAUTH' }, effect: { drop: true }, times: 1 });
    const url = `${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`;
    const err = await failure(fetch(url, { headers: { authorization: `Bearer ${token}` } }));
    expect(err).toBeInstanceOf(TypeError);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(lookups('BACKEND_NOAUTH').map((e) => [e.status, e.fault, e.faultEffect])).toEqual([
      [0, fault.id, 'drop'],
      [200, undefined, undefined],
    ]);
  });

  it('drop on the backend: the SDK call fails without a response; through the proxy the client gets 502', async () => {
    await addFault({ target: { service: 'backend', path: '/gone' }, effect: { drop: true } });
    const direct = rootCause(
      await failure(executeHttpRequest({ destinationName: 'BACKEND_NOAUTH', useCache: false }, { method: 'get', url: '/gone' })),
    );
    expect(direct.response).toBeUndefined();
    const proxied = rootCause(
      await failure(executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/gone' })),
    );
    expect(proxied.response?.status).toBe(502);
    expect(emu.journal({ service: 'backend' }).map((e) => [e.status, e.faultEffect])).toEqual([
      [0, 'drop'],
      [0, 'drop'],
    ]);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 502, check: 'backend' });
  });

  it('drop on the proxy: the connection closes before any answer', async () => {
    const fault = await addFault({ target: { service: 'connectivity-proxy', locationId: 'LOC1' }, effect: { drop: true } });
    const err = rootCause(
      await failure(executeHttpRequest({ destinationName: 'ONPREM_LOC1', useCache: false }, { method: 'get', url: '/x' })),
    );
    expect(err.response).toBeUndefined();
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      status: 0,
      check: 'fault',
      fault: fault.id,
      faultEffect: 'drop',
      locationId: 'LOC1',
    });
    // The default location is not affected.
    expect((await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/x' })).status).toBe(200);
  });

  it('429 on the token endpoint: the window budget, then 429 with Retry-After until the window (emulator clock) has passed', async () => {
    const creds = binding(emu, 'xsuaa');
    const fault = await addFault({
      target: { service: 'xsuaa', path: '/oauth/token' },
      effect: { rateLimit: { limit: 2, windowMs: 60_000 } },
    });
    const token = () =>
      postForm(`${emu.urls.services}/oauth/token`, {
        grant_type: 'client_credentials',
        client_id: creds.clientid,
        client_secret: creds.clientsecret,
      });
    expect((await token()).status).toBe(200);
    expect((await token()).status).toBe(200);
    const limited = await token();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    emu.clock({ action: 'advance', by: '20s' });
    expect((await token()).headers.get('retry-after')).toBe('40');
    emu.clock({ action: 'advance', by: '41s' });
    expect((await token()).status).toBe(200);
    expect(emu.journal({ service: 'xsuaa' }).map((e) => [e.status, e.fault])).toEqual([
      [200, undefined],
      [200, undefined],
      [429, fault.id],
      [429, fault.id],
      [200, undefined],
    ]);
    expect(emu.journal({ status: 429 })[0]).toMatchObject({ faultEffect: 'rateLimit', reason: expect.stringContaining(fault.id) });
  });

  it('tokens that expire early: expires_in and exp are shortened, the token is validly signed, and is refused once expired', async () => {
    const fault = await addFault({ target: { service: 'xsuaa' }, effect: { tokenValidity: 5 } });
    const creds = binding(emu, 'destination');
    const res = await postForm(`${emu.urls.services}/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: creds.clientid,
      client_secret: creds.clientsecret,
    });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    expect(body.expires_in).toBe(4);
    const claims = decodeJwt(body.access_token);
    expect(claims.exp! - claims.iat!).toBe(5);
    const jwks = createRemoteJWKSet(new URL(`${emu.urls.services}/token_keys`));
    await jwtVerify(body.access_token, jwks, { currentDate: new Date(claims.iat! * 1000) });
    expect(emu.journal({ service: 'xsuaa' }).find((e) => e.path === '/oauth/token')).toMatchObject({
      status: 200,
      fault: fault.id,
      faultEffect: 'tokenValidity',
      issuedJti: claims.jti,
    });

    const lookup = () =>
      fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
        headers: { authorization: `Bearer ${body.access_token}` },
      });
    emu.clock({ action: 'freeze', at: new Date(claims.iat! * 1000).toISOString() });
    expect((await lookup()).status).toBe(200);
    emu.clock({ action: 'advance', by: '6s' });
    expect((await lookup()).status).toBe(401);

    // Without the fault the same client's token lives as long as before.
    emu.removeFault(fault.id);
    const normal = (await (
      await postForm(`${emu.urls.services}/oauth/token`, {
        grant_type: 'client_credentials',
        client_id: creds.clientid,
        client_secret: creds.clientsecret,
      })
    ).json()) as { expires_in: number };
    expect(normal.expires_in).toBeGreaterThan(3600);
  });

  it('Cloud Connector offline: LOC1 answers 503 while the fault is on, the default location still works, and it is back when the fault expires', async () => {
    const fault = await addFault({ target: { locationId: 'LOC1' }, effect: { offline: true }, durationMs: 30_000 });
    const offline = rootCause(
      await failure(executeHttpRequest({ destinationName: 'ONPREM_LOC1', useCache: false }, { method: 'get', url: '/x' })),
    );
    expect(offline.response?.status).toBe(503);
    expect((offline.response as unknown as { data: string }).data).toBe(
      "There is no SAP Cloud Connector (SCC) connected to your subaccount with location ID 'LOC1'",
    );
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      status: 503,
      check: 'offline',
      fault: fault.id,
      faultEffect: 'offline',
    });
    expect((await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/x' })).status).toBe(200);

    emu.clock({ action: 'advance', by: '31s' });
    expect((await executeHttpRequest({ destinationName: 'ONPREM_LOC1', useCache: false }, { method: 'get', url: '/x' })).status).toBe(200);
    expect(emu.faults()).toEqual([]);
  });

  it('Cloud Connector offline over SOCKS5: reply 03 while the fault is on, connected again once it is removed', async () => {
    const jwt = await serviceToken(emu, 'connectivity');
    const connectVia = () => sapSocksConnect(emu.ports.socks5, jwt, { host: 'tcp.internal', port: 7000 }, { timeout: 5000 });
    const fault = emu.addFault({ target: { service: 'socks5', locationId: '' }, effect: { offline: true } });
    expect((await failure(connectVia())).message).toMatch(/Network unreachable|HostUnreachable|NetworkUnreachable|03/i);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      status: 3,
      check: 'offline',
      fault: fault.id,
      faultEffect: 'offline',
    });
    emu.removeFault(fault.id);
    const connected = await connectVia();
    connected.destroy();
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0 });
  });

  it("a fault narrowed to the connectivity binding's client meets its SOCKS5 tunnels; one for another client does not", async () => {
    const jwt = await serviceToken(emu, 'connectivity');
    const connectVia = () => sapSocksConnect(emu.ports.socks5, jwt, { host: 'tcp.internal', port: 7000 }, { timeout: 5000 });
    const clientId = binding(emu, 'connectivity').clientid;

    const other = emu.addFault({ target: { clientId: 'someone-else' }, effect: { drop: true } });
    (await connectVia()).destroy();
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0 });
    emu.removeFault(other.id);

    const drop = emu.addFault({ target: { clientId }, effect: { drop: true } });
    await failure(connectVia());
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 1, check: 'fault', fault: drop.id, faultEffect: 'drop' });
    emu.removeFault(drop.id);

    const offline = emu.addFault({ target: { service: 'socks5', clientId }, effect: { offline: true } });
    await failure(connectVia());
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 3, check: 'offline', fault: offline.id });
  });

  it('a status fault on the proxy for one tenant and location answers that status with the body given', async () => {
    const fault = await addFault({
      target: { service: 'connectivity-proxy', tenant: 'provider', locationId: '', path: '/sap' },
      effect: { status: 504, body: 'gateway busy' },
    });
    const err = rootCause(
      await failure(executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/sap/x' })),
    );
    expect(err.response?.status).toBe(504);
    expect((err.response as unknown as { data: string }).data).toBe('gateway busy');
    expect((await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: '/other' })).status).toBe(
      200,
    );
    expect(emu.journal({ service: 'connectivity-proxy' }).map((e) => [e.status, e.fault])).toEqual([
      [504, fault.id],
      [200, undefined],
    ]);
  });
});

describe('tenant targets', () => {
  const subscriberZid = '0c2b5a6e-7d41-4f0a-8e3b-2d9c1f4e5b02';
  /** A client-credentials request; `host` sets the Host header (node:http may, fetch may not), as a call to `https://<subdomain>.<uaadomain>` sends. */
  const tokenRequest = (
    service: 'xsuaa' | 'destination',
    headers: Record<string, string> = {},
    host?: string,
  ): Promise<{ status: number }> => {
    const { clientid, clientsecret } = binding(emu, service);
    const form = { grant_type: 'client_credentials', client_id: clientid, client_secret: clientsecret };
    if (!host) return postForm(`${emu.urls.services}/oauth/token`, form, headers);
    const port = Number(new URL(emu.urls.services).port);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/oauth/token',
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', host: `${host}:${port}`, ...headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', reject);
      req.end(new URLSearchParams(form).toString());
    });
  };

  it("XSUAA: the tenant is the one the token request addresses (x-zid, the host's subdomain, else the provider)", async () => {
    emu.addFault({ target: { service: 'xsuaa', tenant: 'subscriber1' }, effect: { status: 503 } });
    expect((await tokenRequest('xsuaa', { 'x-zid': subscriberZid })).status).toBe(503);
    expect((await tokenRequest('xsuaa', {}, 'subscriber1.localhost')).status).toBe(503);
    expect((await tokenRequest('xsuaa')).status).toBe(200);
    emu.clearFaults();
    emu.addFault({ target: { service: 'xsuaa', tenant: 'provider' }, effect: { status: 503 } });
    expect((await tokenRequest('xsuaa')).status).toBe(503);
    expect((await tokenRequest('xsuaa', { 'x-zid': subscriberZid })).status).toBe(200);
  });

  it("Destination Service: the tenant is the bearer token's zone", async () => {
    emu.addFault({ target: { service: 'destination', tenant: subscriberZid }, effect: { status: 503 } });
    const lookup = async (zid?: string): Promise<number> => {
      const token = await serviceToken(emu, 'destination', zid);
      return (
        await fetch(`${binding(emu, 'destination').uri}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status;
    };
    expect(await lookup(subscriberZid)).toBe(503);
    expect(await lookup()).toBe(200);
  });
});
