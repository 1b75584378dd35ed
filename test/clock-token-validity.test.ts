/**
 * The other half of the clock story: the SAP Cloud SDK caches its service token for `expires_in` seconds of its
 * own time (`Date.now()`, which the test moves with vitest's fake Date instead of waiting). With a short token validity (scenario `tokenValidity`, XSUAA's `token-validity`) the SDK
 * fetches a new token once that has passed, even while the emulator's clock stands still. (A file of its own:
 * the SDK's token cache lives as long as the worker process.)
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { decodeJwt } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { startEmulator } from '../emulator/index.ts';
import { binding } from './helpers.ts';

const destination = (Name: string): Record<string, string> => ({
  Name,
  Type: 'HTTP',
  URL: '{{backend}}',
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
});

describe("the SDK's own cache runs on expires_in, on its own clock", () => {
  it('with a 3-second token validity the SDK fetches a new service token once expires_in has passed', async () => {
    const short = await startEmulator({
      port: 0,
      scenario: {
        name: 'short-tokens',
        tokenValidity: 3,
        tenants: [{ subdomain: 'provider', destinations: ['ONE', 'TWO', 'THREE'].map(destination) }],
      },
    });
    process.env.VCAP_SERVICES = short.env.VCAP_SERVICES;
    try {
      const grants = (): number => short.journal({ service: 'xsuaa' }).filter((e) => e.path.startsWith('/oauth/token')).length;
      short.clock({ action: 'freeze' }); // the emulator's time stands still: the token stays valid for it
      // The SDK's cache reads Date.now(): a fake Date (timers stay real) stands still until the test moves it.
      vi.useFakeTimers({ toFake: ['Date'] });
      await getDestination({ destinationName: 'ONE' });
      const first = short.journal({ service: 'xsuaa' }).at(-1)!;
      expect(first).toMatchObject({ grantType: 'client_credentials' });
      vi.setSystemTime(Date.now() + 1_900);
      await getDestination({ destinationName: 'TWO' });
      expect(grants()).toBe(1); // cached: expires_in is 2, and 1.9 s have passed for the SDK
      vi.setSystemTime(Date.now() + 200);
      await getDestination({ destinationName: 'THREE' });
      expect(grants()).toBe(2); // the SDK's cache ran out on its own clock
      const token = await fetch(`${short.urls.services}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: binding(short, 'destination').clientid,
          client_secret: binding(short, 'destination').clientsecret,
        }),
      });
      const body = (await token.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(2);
      const claims = decodeJwt(body.access_token);
      expect(claims.exp! - claims.iat!).toBe(3);
    } finally {
      vi.useRealTimers();
      delete process.env.VCAP_SERVICES;
      await short.stop();
    }
  });
});

describe('tokenValidity in the scenario', () => {
  it('per client and for the whole scenario; a bad value names the field', async () => {
    const emu = await startEmulator({
      port: 0,
      scenario: {
        tokenValidity: 600,
        tenants: [{ subdomain: 'provider' }],
        clients: [
          { clientid: 'quick', clientsecret: 's', tokenValidity: 60 },
          { clientid: 'plain', clientsecret: 's' },
        ],
      },
    });
    try {
      const lifetime = async (clientid: string, secret: string): Promise<number> => {
        const res = await fetch(`${emu.urls.services}/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientid, client_secret: secret }),
        });
        const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token);
        return claims.exp! - claims.iat!;
      };
      expect(await lifetime('quick', 's')).toBe(60);
      expect(await lifetime('plain', 's')).toBe(600);
      expect(await lifetime(binding(emu, 'xsuaa').clientid, binding(emu, 'xsuaa').clientsecret)).toBe(600);
      const refused = await fetch(`${emu.urls.control}/scenario`, {
        method: 'POST',
        body: JSON.stringify({ tenants: [{ subdomain: 'provider' }], clients: [{ clientid: 'x', clientsecret: 's', tokenValidity: -5 }] }),
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { issues: { path: string }[] }).issues[0].path).toBe('clients[0].tokenValidity');
    } finally {
      await emu.stop();
    }
  });
});
