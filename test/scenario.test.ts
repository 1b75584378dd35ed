/**
 * Scenarios: the bundled default loads, bad ones are refused with the field named and change nothing, and
 * the core answers without any socket (the same core the MSW face runs in a browser).
 */
import { describe, expect, it } from 'vitest';
import { EmulatorCore, startEmulator } from '../emulator/index.ts';

describe('scenario files', () => {
  it('the bundled default scenario loads with a provider and a subscriber', async () => {
    const emu = await startEmulator({ port: 0, scenario: 'default' });
    try {
      expect(emu.core.state.tenants.map((t) => t.subdomain)).toEqual(['provider', 'subscriber1']);
      const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<
        string,
        { name: string; label: string; credentials: Record<string, string> }[]
      >;
      expect(Object.keys(vcap).sort()).toEqual(['connectivity', 'destination', 'identity', 'xsuaa']);
      // The identity binding (IAS) has no uaadomain: its url is the identity port (test/ias-token.test.ts).
      expect(vcap.identity[0].credentials).toMatchObject({ url: emu.urls.identity, app_tid: emu.core.state.provider.zid });
      for (const [label, entries] of Object.entries(vcap).filter(([l]) => l !== 'identity')) {
        expect(entries[0].label).toBe(label);
        expect(entries[0].credentials.tenantid).toBe(emu.core.state.provider.zid);
        expect(entries[0].credentials.uaadomain).toBe(emu.urls.uaaDomain);
      }
      expect(
        new Set(
          Object.values(vcap)
            .flat()
            .map((b) => b.name),
        ).size,
      ).toBe(4);
      expect(emu.env.NODE_EXTRA_CA_CERTS).toBe(emu.caFile);
    } finally {
      await emu.stop();
    }
  });

  it('refuses a scenario with a bad destination, naming the field', async () => {
    const bad = { tenants: [{ subdomain: 'provider', destinations: [{ Name: 'X', Type: 'SOAP' }] }] };
    await expect(startEmulator({ port: 0, scenario: bad })).rejects.toThrow(/tenants\[0\]\.destinations\[0\]\.Type/);
  });

  it('refuses a scenario without tenants and one with a fragment that sets Name', async () => {
    await expect(EmulatorCore.create({ scenario: { tenants: [] } })).rejects.toThrow(/tenants: at least one tenant/);
    await expect(
      EmulatorCore.create({ scenario: { tenants: [{ subdomain: 'p', fragments: [{ FragmentName: 'f', Name: 'x' }] }] } }),
    ).rejects.toThrow(/fragments\[0\]\.Name/);
  });

  it('a scenario that fails to load over the control API leaves the running one untouched', async () => {
    const core = await EmulatorCore.create({ scenario: { name: 'first', tenants: [{ subdomain: 'provider' }] } });
    const res = await core.fetch(
      new Request('http://localhost/_emulator/scenario', { method: 'POST', body: 'tenants:\n  - subdomain: "Not Valid"\n' }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/tenants\[0\]\.subdomain/);
    expect(core.scenario.name).toBe('first');
  });
});

describe('the core without sockets', () => {
  it('issues a token and finds a destination through core.fetch alone', async () => {
    const core = await EmulatorCore.create({
      scenario: {
        tenants: [
          { subdomain: 'provider', destinations: [{ Name: 'D', Type: 'HTTP', URL: 'https://x', Authentication: 'NoAuthentication' }] },
        ],
      },
    });
    const dest = core.state.bindings.find((b) => b.service === 'destination')!;
    const tokenRes = await core.fetch(
      new Request('http://localhost:20000/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: dest.clientid, client_secret: dest.clientsecret }),
      }),
    );
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const found = await core.fetch(
      new Request('http://localhost:20000/destination-configuration/v1/destinations/D', {
        headers: { authorization: `Bearer ${access_token}` },
      }),
    );
    expect(found.status).toBe(200);
    expect(((await found.json()) as { destinationConfiguration: { URL: string } }).destinationConfiguration.URL).toBe('https://x');
  });

  it('keeps the journal bounded to journalSize, newest entries last', async () => {
    const core = await EmulatorCore.create({ journalSize: 16 });
    for (let i = 0; i < 40; i++) await core.fetch(new Request(`http://localhost/token_keys?i=${i}`));
    const entries = core.journal.list();
    expect(entries).toHaveLength(16);
    expect(entries.at(-1)?.path).toBe('/token_keys?i=39');
    expect(entries[0].path).toBe('/token_keys?i=24');
  });
});
