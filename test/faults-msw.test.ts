/**
 * Faults through the MSW face: the same fault list answers intercepted requests, a dropped connection is a
 * network error for fetch (`Response.error()`), and backend faults apply to the mocked backend too.
 */
import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBtpHandlers, type BtpHandlers } from '../emulator/msw/index.ts';

let btp: BtpHandlers;
let server: SetupServer;

beforeAll(async () => {
  btp = await createBtpHandlers({ name: 'msw-faults', tenants: [{ subdomain: 'provider' }] });
  server = setupServer(...btp.handlers);
  server.listen({ onUnhandledFrame: 'error' });
});

afterAll(() => server?.close());

beforeEach(() => btp.reset());

describe('faults in the MSW face', () => {
  it('drop: fetch fails with a network error, the next request is answered; the journal has status 0', async () => {
    const fault = btp.core.faults.add({ target: { service: 'xsuaa', path: '/token_keys' }, effect: { drop: true }, times: 1 });
    await expect(fetch(`${btp.urls.services}/token_keys`)).rejects.toThrow(TypeError);
    expect((await fetch(`${btp.urls.services}/token_keys`)).status).toBe(200);
    expect(btp.journal({ service: 'xsuaa' }).map((e) => [e.status, e.fault])).toEqual([
      [0, fault.id],
      [200, undefined],
    ]);
  });

  it('backend: a status fault answers instead of the echo, a drop is a network error, both journalled as service backend', async () => {
    btp.core.faults.add({ id: 'busy', target: { service: 'backend', path: '/busy' }, effect: { status: 503, body: { busy: true } } });
    btp.core.faults.add({ id: 'gone', target: { service: 'backend', path: '/gone' }, effect: { drop: true } });
    const busy = await fetch(`${btp.urls.backend}/busy/x`);
    expect(busy.status).toBe(503);
    expect(await busy.json()).toEqual({ busy: true });
    await expect(fetch(`${btp.urls.backend}/gone`)).rejects.toThrow(TypeError);
    expect((await fetch(`${btp.urls.backend}/fine`)).status).toBe(200);
    expect(btp.journal({ service: 'backend' }).map((e) => [e.path, e.status, e.fault, e.faultEffect])).toEqual([
      ['/busy/x', 503, 'busy', 'status'],
      ['/gone', 0, 'gone', 'drop'],
    ]);
  });
});
