/**
 * One clock for every expiry: the control API (`/_emulator/clock`) and the handle freeze, advance and release
 * the emulator's time, and token `iat`/`exp`, the Destination Service's and the proxy's expiry checks (the
 * proxy's token cache included), authorization codes and principal-propagation certificates all follow it.
 */
import { request as httpRequest } from 'node:http';
import { decodeJwt } from 'jose';
import forge from 'node-forge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseDuration } from '../emulator/app/control/clock-actions.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';
import { binding, postForm, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(() => emu?.stop());

beforeEach(() => {
  emu.core.clock.useRealTime();
  emu.reset();
});

const clockApi = (body?: unknown): Promise<Response> =>
  fetch(
    `${emu.urls.control}/clock`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );

/** A GET through the HTTP connectivity proxy with the given Proxy-Authorization token. */
function viaProxy(
  path: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.httpProxy,
        method: 'GET',
        path: `http://erp.internal:44300${path}`,
        headers: { 'proxy-authorization': `Bearer ${token}`, ...headers },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('durations', () => {
  it('reads milliseconds and text durations', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('-5m')).toBe(-300_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
  });
});

describe('GET/POST /_emulator/clock', () => {
  it('reports real time when nothing was changed', async () => {
    const view = (await (await clockApi()).json()) as { now: string; frozen: boolean; offsetMs: number };
    expect(view.frozen).toBe(false);
    expect(Math.abs(Date.parse(view.now) - Date.now())).toBeLessThan(5_000);
    expect(Math.abs(view.offsetMs)).toBeLessThan(5_000);
  });

  it('freezes at an instant, advances by durations, and returns to real time', async () => {
    let res = await clockApi({ action: 'freeze', at: '2030-01-01T00:00:00Z' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ now: '2030-01-01T00:00:00.000Z', frozen: true });
    res = await clockApi({ action: 'advance', by: '1h30m' });
    expect(await res.json()).toMatchObject({ now: '2030-01-01T01:30:00.000Z', frozen: true });
    res = await clockApi({ action: 'advance', by: 30_000 });
    expect(await res.json()).toMatchObject({ now: '2030-01-01T01:30:30.000Z' });
    // Frozen means frozen: a second freeze keeps the instant.
    res = await clockApi({ action: 'freeze' });
    expect(await res.json()).toMatchObject({ now: '2030-01-01T01:30:30.000Z' });
    res = await clockApi({ action: 'real' });
    const view = (await res.json()) as { now: string; frozen: boolean };
    expect(view.frozen).toBe(false);
    expect(Math.abs(Date.parse(view.now) - Date.now())).toBeLessThan(5_000);
  });

  it('advancing a running clock keeps it running, ahead by the duration', async () => {
    const view = (await (await clockApi({ action: 'advance', by: '2h' })).json()) as { frozen: boolean; offsetMs: number };
    expect(view.frozen).toBe(false);
    expect(view.offsetMs).toBeGreaterThan(2 * 3_600_000 - 5_000);
    expect(view.offsetMs).toBeLessThan(2 * 3_600_000 + 5_000);
  });

  it.each([
    [{}, 'action', /action must be one of freeze, advance, real/],
    [{ action: 'stop' }, 'action', /action must be one of/],
    [{ action: 'advance' }, 'by', /by is required/],
    [{ action: 'advance', by: 'soon' }, 'by', /by must be a duration.*"soon"/],
    [{ action: 'advance', by: true }, 'by', /by must be a duration/],
    [{ action: 'freeze', at: 'tomorrow' }, 'at', /at must be an ISO date-time.*"tomorrow"/],
    [{ action: 'freeze', by: '5m' }, 'by', /by is only for action "advance"/],
    [{ action: 'real', at: '2030-01-01T00:00:00Z' }, 'at', /at is only for action "freeze"/],
    [{ action: 'real', speed: 2 }, 'speed', /speed: unknown key; the keys here are action, by, at/],
  ])('refuses %j naming the field %s, and changes nothing', async (body, path, message) => {
    const res = await clockApi(body);
    expect(res.status).toBe(400);
    const error = (await res.json()) as { message: string; issues: { path: string; message: string }[] };
    expect(error.issues[0].path).toBe(path);
    expect(error.message).toMatch(message);
    expect(emu.clock().frozen).toBe(false);
  });

  it('the handle offers the same actions', () => {
    expect(emu.clock({ action: 'freeze', at: '2031-05-01T12:00:00Z' }).now).toBe('2031-05-01T12:00:00.000Z');
    expect(emu.clock({ action: 'advance', by: '1d' }).now).toBe('2031-05-02T12:00:00.000Z');
    expect(emu.clock().frozen).toBe(true);
    expect(() => emu.clock({ action: 'advance', by: 'later' })).toThrow(/by must be a duration/);
    expect(emu.clock({ action: 'real' }).frozen).toBe(false);
  });
});

describe('every expiry follows the clock', () => {
  it('tokens carry iat/exp of the emulator clock, and the journal its time', async () => {
    emu.clock({ action: 'freeze', at: '2030-01-01T00:00:00Z' });
    const token = await serviceToken(emu, 'destination');
    const claims = decodeJwt(token);
    expect(claims.iat).toBe(Date.parse('2030-01-01T00:00:00Z') / 1000);
    expect(claims.exp).toBe(claims.iat! + 43200);
    expect(emu.journal({ service: 'xsuaa' }).at(-1)?.time).toBe('2030-01-01T00:00:00.000Z');
  });

  it('the Destination Service refuses a token once the clock passes its exp: "expired 12 s ago"', async () => {
    emu.clock({ action: 'freeze' });
    const token = await serviceToken(emu, 'destination');
    const lookup = (): Promise<Response> =>
      fetch(`${emu.urls.services}/destination-configuration/v1/destinations/BACKEND_NOAUTH`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await lookup()).status).toBe(200);
    emu.clock({ action: 'advance', by: '11h59m59s' });
    expect((await lookup()).status).toBe(200);
    emu.clock({ action: 'advance', by: '13s' });
    const refused = await lookup();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { ErrorMessage: string }).ErrorMessage).toMatch(/the token expired 12 s ago/);
    expect(emu.journal({ service: 'destination' }).at(-1)).toMatchObject({
      status: 401,
      reason: expect.stringMatching(/expired 12 s ago/),
    });
  });

  it('the proxy refuses a token it has cached as valid once the clock passes its exp (407)', async () => {
    emu.clock({ action: 'freeze' });
    const token = await serviceToken(emu, 'connectivity');
    expect((await viaProxy('/first', token)).status).toBe(200);
    expect((await viaProxy('/second', token)).status).toBe(200); // served from the proxy's token cache
    emu.clock({ action: 'advance', by: '12h1m' });
    const refused = await viaProxy('/third', token);
    expect(refused.status).toBe(407);
    expect(decodeURI(String(refused.headers['x-emulator-reason']))).toMatch(/the token expired 6\d s ago/);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({
      status: 407,
      check: 'auth',
      reason: expect.stringMatching(/expired/),
    });
  });

  it('an authorization code is refused once the clock passes its 10 minutes', async () => {
    const xsuaa = binding(emu, 'xsuaa');
    const codeFor = async (): Promise<string> => {
      const res = await fetch(
        `${emu.urls.services}/oauth/authorize?response_type=code&client_id=${encodeURIComponent(xsuaa.clientid)}&redirect_uri=${encodeURIComponent('http://localhost/cb')}&user=alice`,
        { redirect: 'manual' },
      );
      return new URL(res.headers.get('location')!).searchParams.get('code')!;
    };
    const redeem = (code: string): Promise<Response> =>
      postForm(`${emu.urls.services}/oauth/token`, {
        grant_type: 'authorization_code',
        code,
        client_id: xsuaa.clientid,
        client_secret: xsuaa.clientsecret,
        redirect_uri: 'http://localhost/cb',
      });
    emu.clock({ action: 'freeze' });
    const fresh = await codeFor();
    emu.clock({ action: 'advance', by: '9m' });
    expect((await redeem(fresh)).status).toBe(200);
    const stale = await codeFor();
    emu.clock({ action: 'advance', by: '10m1s' });
    const refused = await redeem(stale);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/Invalid authorization code/);
  });

  it('principal-propagation certificates are valid from the emulator clock on', async () => {
    emu.clock({ action: 'freeze', at: '2030-06-01T08:00:00Z' });
    const token = await serviceToken(emu, 'connectivity');
    const user = await emu.issueUserToken({ user: 'alice' });
    const res = await viaProxy('/pp', token, { 'sap-connectivity-authentication': `Bearer ${user}` });
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body) as EchoBody;
    const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.decode64(String(echo.headers.ssl_client_cert))));
    expect(cert.validity.notBefore.toISOString()).toBe('2030-06-01T07:59:00.000Z');
    expect(cert.validity.notAfter.getTime()).toBeGreaterThan(Date.parse('2030-06-01T08:00:00Z'));
    expect(cert.validity.notAfter.getTime()).toBeLessThanOrEqual(Date.parse('2030-06-01T09:00:00Z'));
  });
});
