/**
 * Clearing every stub route of the fake on-prem backend, by each face: the control API (`DELETE
 * /_emulator/backend/stubs`, 204), the handle (`emu.onPrem.clearStubs()`) and the typed client
 * (`emu.control.clearStubs()`). Afterwards a cleared route no longer answers with its stub — neither directly
 * nor through the connectivity proxy (the SAP Cloud SDK with an OnPremise destination) — but falls through to
 * the backend's echo; a reset brings the scenario's stubs back.
 */
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(async () => {
  emu.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  // The scenario's `ping` stub plus one added at run time.
  emu.onPrem.addStub({
    id: 'orders',
    method: 'GET',
    path: '/api/orders/*',
    status: 201,
    headers: { 'x-stub': 'orders' },
    body: { orders: [1, 2] },
  });
  await expectStubbed();
});

/** Directly on the backend's port. */
async function direct(path: string): Promise<{ status: number; stub?: string; text: string }> {
  const res = await fetch(`${emu.urls.backend}${path}`);
  return { status: res.status, stub: res.headers.get('x-stub') ?? undefined, text: await res.text() };
}

/** Through the HTTP proxy and the default Cloud Connector (destination ONPREM_BASIC → erp.internal:44300). */
async function viaProxy(path: string): Promise<unknown> {
  return (await executeHttpRequest({ destinationName: 'ONPREM_BASIC', useCache: false }, { method: 'get', url: path })).data;
}

async function expectStubbed(): Promise<void> {
  expect(await direct('/sap/bc/ping')).toEqual({ status: 200, text: 'pong' });
  expect(await direct('/api/orders/7')).toEqual({ status: 201, stub: 'orders', text: JSON.stringify({ orders: [1, 2] }) });
  expect(await viaProxy('/api/orders/7')).toEqual({ orders: [1, 2] });
}

/** Every former stub route is answered by the echo: 200, JSON naming the path, no stub header. */
async function expectCleared(): Promise<void> {
  for (const path of ['/sap/bc/ping', '/api/orders/7']) {
    const res = await direct(path);
    expect(res.status).toBe(200);
    expect(res.stub).toBeUndefined();
    expect((JSON.parse(res.text) as EchoBody).path).toBe(path);
  }
  expect(((await viaProxy('/api/orders/7')) as EchoBody).path).toBe('/api/orders/7');
  expect(await emu.control.stubs()).toEqual([]);
}

describe('clearing all backend stubs', () => {
  it('through the control API: 204, and the stub routes fall through to the echo', async () => {
    const res = await fetch(`${emu.urls.control}/backend/stubs`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    await expectCleared();
  });

  it('through the handle', async () => {
    emu.onPrem.clearStubs();
    await expectCleared();
  });

  it('through the typed client', async () => {
    await emu.control.clearStubs();
    await expectCleared();
  });

  it('a reset brings back the scenario’s stubs but not the ones added at run time', async () => {
    await emu.control.clearStubs();
    emu.reset();
    expect((await emu.control.stubs()).map((s) => s.id)).toEqual(['ping']);
    expect(await direct('/sap/bc/ping')).toEqual({ status: 200, text: 'pong' });
    expect((await direct('/api/orders/7')).stub).toBeUndefined();
  });

  it('a stub added after clearing answers again', async () => {
    emu.onPrem.clearStubs();
    await emu.control.addStub({ method: 'GET', path: '/sap/bc/ping', body: 'pong again' });
    expect(await direct('/sap/bc/ping')).toEqual({ status: 200, text: 'pong again' });
  });
});
