/**
 * The typed control client against a running emulator, for the parts the other tests do not drive through it:
 * faults (added, seen by a real request and in the journal, removed), snapshots (taken, state changed, restored),
 * stubs and Cloud Connectors, and any operation by id through `call`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlApiError, type ControlClient } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;
let control: ControlClient;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  control = emu.control;
});
afterAll(() => emu?.stop());

async function find(name: string): Promise<Response> {
  const token = await serviceToken(emu, 'destination');
  return fetch(`${binding(emu, 'destination').uri}/destination-configuration/v1/destinations/${name}`, {
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('ControlClient', () => {
  it('adds a fault a real request meets, shows it in the journal, and removes it', async () => {
    const fault = await control.addFault({
      target: { service: 'destination', destination: 'BACKEND_BASIC' },
      effect: { status: 503 },
      times: 1,
    });
    expect(fault.id).toMatch(/^fault-/);
    expect((await control.faults()).map((f) => f.id)).toContain(fault.id);
    expect((await find('BACKEND_BASIC')).status).toBe(503);
    const entry = await control.waitFor((e) => e.fault === fault.id, { query: { service: 'destination' } });
    expect(entry).toMatchObject({ status: 503, destination: 'BACKEND_BASIC', faultEffect: 'status' });
    // times: 1 — it is gone after one request, and the next one is answered.
    expect((await find('BACKEND_BASIC')).status).toBe(200);
    const again = await control.addFault({ id: 'slow', target: { service: 'xsuaa' }, effect: { latencyMs: 1 } });
    await control.removeFault(again.id);
    const missing = await control.removeFault('slow').catch((e: unknown) => e);
    expect((missing as ControlApiError).status).toBe(404);
    await control.addFault({ effect: { latencyMs: 1 } });
    await control.clearFaults();
    expect(await control.faults()).toEqual([]);
  });

  it('takes a snapshot and restores it after changes', async () => {
    const before = await control.snapshot();
    await control.addStub({ id: 'temporary', path: '/temporary', body: 'x' });
    await control.setCloudConnectorOnline(false, { locationId: 'LOC1' });
    expect((await control.stubs()).map((s) => s.id)).toContain('temporary');
    await control.restoreSnapshot(before);
    expect((await control.stubs()).map((s) => s.id)).not.toContain('temporary');
    const provider = (await control.cloudConnectors()).find((t) => t.tenant === 'provider')!;
    expect(provider.connectors.find((c) => c.locationId === 'LOC1')?.online).toBe(true);
  });

  it('calls any operation by id, with path parameters', async () => {
    await control.addStub({ id: 'by-id', path: '/by-id', body: 'y' });
    await control.call('removeStub', { params: { id: 'by-id' } });
    expect((await control.stubs()).map((s) => s.id)).not.toContain('by-id');
    const keys = await control.call('listKeys');
    expect(keys.keys.some((k) => k.kid === keys.active)).toBe(true);
  });
});
