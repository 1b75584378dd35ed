/**
 * The SAP Cloud SDK (unmodified) and the emulator's clock. The SDK caches its service token for `expires_in`
 * seconds of *its own* (real) time, so moving the emulator's clock does not empty that cache: what it does is
 * make the emulator treat the cached token as expired, exactly as BTP would after 12 hours. The SDK's cached
 * token is refused (401, with the reason in the SDK's error and in the journal); the app's retry without the
 * cache makes the SDK fetch a new token, minted at the advanced time, and the lookup succeeds.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { clientCredentialsTokenCache } from '@sap-cloud-sdk/connectivity/internal';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle, type JournalEntry } from '../emulator/index.ts';
import { binding } from './helpers.ts';

let emu: EmulatorHandle;

const destination = (Name: string): Record<string, string> => ({
  Name,
  Type: 'HTTP',
  URL: '{{backend}}',
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
});

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: { name: 'clock-sdk', tenants: [{ subdomain: 'provider', destinations: ['FIRST', 'SECOND', 'THIRD'].map(destination) }] },
  });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

// Each test from a clean journal and an empty SDK token cache, in whatever order they run.
beforeEach(() => {
  emu.reset();
  emu.clock({ action: 'real' });
  clientCredentialsTokenCache.clear();
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  emu?.clock({ action: 'real' });
  await emu?.stop();
});

/** The service-token grants of the destination binding's client, as the journal recorded them. */
function destinationTokenGrants(): JournalEntry[] {
  return emu.journal({ service: 'xsuaa' }).filter((e) => e.method === 'POST' && e.path.startsWith('/oauth/token'));
}

describe('SAP Cloud SDK and a frozen, then advanced clock', () => {
  it('the SDK refetches its service token only after the emulator refused the cached one as expired', async () => {
    const frozenAt = Date.parse('2030-03-01T09:00:00Z');
    emu.clock({ action: 'freeze', at: new Date(frozenAt).toISOString() });

    // 1. First lookup: the SDK fetches a service token (iat = the frozen time) and caches it for expires_in.
    expect((await getDestination({ destinationName: 'FIRST' }))?.url).toBe(emu.urls.backend);
    expect(destinationTokenGrants()).toHaveLength(1);
    // 2. A lookup of another destination reuses the cached token: no new grant.
    expect((await getDestination({ destinationName: 'SECOND' }))?.url).toBe(emu.urls.backend);
    expect(destinationTokenGrants()).toHaveLength(1);
    const lookups = emu.journal({ service: 'destination' });
    expect(lookups.map((e) => e.status)).toEqual([200, 200]);

    // 3. Twelve hours and a minute later on the emulator's clock, no time later for the SDK: its cache still
    //    holds the token, the Destination Service refuses it.
    emu.clock({ action: 'advance', by: '12h1m' });
    await expect(getDestination({ destinationName: 'THIRD' })).rejects.toThrow(
      /Failed to fetch destination\. Unauthorized: the token expired 6\d s ago/,
    );
    const refused = emu.journal({ service: 'destination' }).at(-1)!;
    expect(refused).toMatchObject({ status: 401, destination: 'THIRD', reason: expect.stringMatching(/the token expired 6\d s ago/) });
    expect(destinationTokenGrants()).toHaveLength(1);

    // 4. The app's retry path: without the cache the SDK fetches a new token, minted at the advanced time.
    expect((await getDestination({ destinationName: 'THIRD', useCache: false }))?.url).toBe(emu.urls.backend);
    const grants = destinationTokenGrants();
    expect(grants).toHaveLength(2);
    expect(grants[1].time).toBe(new Date(frozenAt + (12 * 60 + 1) * 60_000).toISOString());
    expect(emu.journal({ service: 'destination' }).at(-1)).toMatchObject({ status: 200, destination: 'THIRD' });
  });

  it('the emulator never hands out an already-expired token: a new one is valid from the advanced time on', async () => {
    emu.clock({ action: 'freeze', at: '2030-03-02T00:00:00Z' });
    const creds = binding(emu, 'destination');
    const res = await fetch(`${emu.urls.services}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret }),
    });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    const claims = decodeJwt(body.access_token);
    expect(claims.iat).toBe(Date.parse('2030-03-02T00:00:00Z') / 1000);
    expect(claims.exp! - claims.iat!).toBe(43200);
    expect(body.expires_in).toBe(43199);
  });
});
