/**
 * What the journal keeps of a query: a value is masked when the parameter's name looks secret, unless the
 * parameter is a known flag or type name (`$skipTokenRetrieval=true`, `requested_token_type=urn:…`). Both
 * directions are checked, and the README's "Why did my call fail?" example is compared with what the emulator
 * answers for it today.
 */
import { readFileSync } from 'node:fs';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSecretParameter, redacted, redactQuery } from '../emulator/core/redact.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { dest, destinationToken } from './state-helpers.ts';

describe('which query values are masked', () => {
  it.each([
    '$skipTokenRetrieval',
    '$skipCredentials',
    'requested_token_type',
    'subject_token_type',
    'actor_token_type',
    'client_assertion_type',
    'token_format',
  ])('%s keeps its value (a flag or a type name)', (name) => {
    expect(isSecretParameter(name)).toBe(false);
    expect(redactQuery(`?${name}=true`)).toBe(`?${name}=true`);
  });

  it.each([
    'client_secret',
    'password',
    'access_token',
    'refresh_token',
    'id_token',
    'subject_token',
    'assertion',
    'client_assertion',
    'code',
    'code_verifier',
    'api_key',
    'sap-password',
    'X-Credentials',
    '$skipTokenRetrievalSecret',
    'skipTokenRetrieval',
  ])('%s is masked', (name) => {
    expect(isSecretParameter(name)).toBe(true);
    expect(redactQuery(`?${name}=abc&x=1`)).toBe(`?${name}=${redacted}&x=1`);
  });
});

describe('the journal', () => {
  let emu: EmulatorHandle;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, scenario: 'default' });
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  });
  afterAll(async () => {
    delete process.env.VCAP_SERVICES;
    await emu?.stop();
  });

  it('keeps $skipTokenRetrieval and $skipCredentials, masks tokens in the same query', async () => {
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    const query = '$skipTokenRetrieval=true&$skipCredentials=false';
    expect(
      (await fetch(`${emu.urls.services}${dest}/destinations/BACKEND_BASIC?${query}`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    await fetch(`${emu.urls.services}/token_keys?access_token=leaked-4711&requested_token_type=urn:ietf:params:oauth:token-type:jwt`);
    const paths = emu.journal().map((e) => e.path);
    expect(paths).toContain(`${dest}/destinations/BACKEND_BASIC?${query}`);
    expect(paths).toContain(`/token_keys?access_token=${redacted}&requested_token_type=urn:ietf:params:oauth:token-type:jwt`);
    expect(JSON.stringify(emu.journal())).not.toContain('leaked-4711');
  });

  it('answers the README’s "Why did my call fail?" example as the README shows it', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').split('\n');
    const first = readme.findIndex((line) => line.startsWith('{"role":"proxy"'));
    expect(first, 'the example block in README.md').toBeGreaterThan(0);
    const shown = readme.slice(first, readme.indexOf('```', first));

    // As the README tells it: a fresh emulator with the bundled scenario, the connector offline, one SDK call.
    const fresh = await startEmulator({ port: 0, scenario: 'default' });
    try {
      process.env.VCAP_SERVICES = fresh.env.VCAP_SERVICES;
      expect(
        (
          await fetch(`${fresh.urls.control}/cloud-connectors/state`, {
            method: 'PUT',
            body: JSON.stringify({ locationId: 'LOC1', online: false }),
          })
        ).status,
      ).toBe(200);
      await expect(
        executeHttpRequest({ destinationName: 'ONPREM_LOC1' }, { method: 'get', url: '/sap/opu/odata/sap/API_SAMPLE_SRV/Products' }),
      ).rejects.toThrow('Request failed with status code 503');
      const chain = (await (await fetch(`${fresh.urls.control}/journal/last-call?destination=ONPREM_LOC1`)).json()) as {
        failed: unknown;
        summary: string[];
      };
      expect([JSON.stringify(chain.failed), ...chain.summary]).toEqual(shown);
    } finally {
      process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
      await fresh.stop();
    }
  });
});
