/**
 * The SAP Cloud SDK's connectivity token and the emulator's clock (docs/clock-keys-exec.md). The SDK fetches
 * the token for `Proxy-Authorization` with `serviceToken(connectivityBinding, { jwt })`, without passing on the
 * request's `useCache`, so it comes from the SDK's client-credentials cache whatever `useCache` says. After
 * the emulator's clock is advanced past the token's life, on-premise calls are refused with 407 until that
 * cache entry runs out in real time, or the app clears it.
 */
import { clientCredentialsTokenCache } from '@sap-cloud-sdk/connectivity/internal';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type JournalEntry } from '../emulator/index.ts';
import { binding } from './helpers.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  emu?.clock({ action: 'real' });
  await emu?.stop();
});

/** The client-credentials grants of the connectivity binding's client. */
function connectivityGrants(): JournalEntry[] {
  const clientId = binding(emu, 'connectivity').clientid;
  return emu.journal({ service: 'xsuaa' }).filter((e) => e.method === 'POST' && e.clientId === clientId);
}

const callOnPrem = () =>
  executeHttpRequest(
    { destinationName: 'ONPREM_LOC1', useCache: false },
    { method: 'get', url: '/sap/opu/odata/sap/API_SAMPLE_SRV/Products' },
  );

describe('SAP Cloud SDK: the connectivity token after a clock advance', () => {
  it('useCache: false does not reach the connectivity token: 407 until its cache entry is gone', async () => {
    emu.clock({ action: 'freeze', at: '2030-04-01T08:00:00Z' });
    expect((await callOnPrem()).status).toBe(200);
    expect(connectivityGrants()).toHaveLength(1);

    emu.clock({ action: 'advance', by: '12h1m' });
    // The lookup fetches a new destination token (useCache: false), the proxy gets the cached connectivity token.
    await expect(callOnPrem()).rejects.toThrow(/status code 407/);
    expect(emu.journal({ service: 'destination' }).at(-1)).toMatchObject({ status: 200, destination: 'ONPREM_LOC1' });
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 407, reason: expect.stringMatching(/expired/) });
    expect(connectivityGrants()).toHaveLength(1);

    // The workaround the docs give: empty the SDK's client-credentials token cache.
    clientCredentialsTokenCache.clear();
    expect((await callOnPrem()).status).toBe(200);
    const grants = connectivityGrants();
    expect(grants).toHaveLength(2);
    expect(grants[1].time).toBe('2030-04-01T20:01:00.000Z');
  });
});
