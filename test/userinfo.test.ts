/**
 * XSUAA's `GET /userinfo` over a real socket: a user token (password grant through @sap/xssec, and one the handle
 * issues) gets the user's fields; a client-credentials token is refused as UAA refuses it (403 access_denied, no
 * `openid` resource id); no token, a garbage token, a token signed by another key and an expired one get 401.
 */
import { generateKeyPairSync } from 'node:crypto';
import { XsuaaService } from '@sap/xssec';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});
afterAll(() => emu?.stop());

async function userinfo(authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emu.urls.services}/userinfo`, { headers: authorization ? { authorization } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /userinfo', () => {
  it("answers a password-grant user token (fetched by @sap/xssec) with that user's fields", async () => {
    const creds = binding(emu, 'xsuaa');
    const service = new XsuaaService({ ...creds });
    const { access_token } = await service.fetchPasswordToken('alice', 'alice-password');
    const { status, body } = await userinfo(`Bearer ${access_token}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      user_name: 'alice',
      email: 'alice@example.com',
      origin: expect.any(String),
      zid: emu.core.state.provider.zid,
    });
    expect(body.user_id).toBe(body.sub);
    expect(typeof body.user_id).toBe('string');
  });

  it("answers a subscriber's user token with the subscriber's zone", async () => {
    const subscriber = emu.core.state.tenants.find((t) => t.subdomain === 'subscriber1')!;
    const jwt = await emu.issueUserToken({ user: 'bob', tenant: 'subscriber1' });
    const { status, body } = await userinfo(`Bearer ${jwt}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ user_name: 'bob', zid: subscriber.zid });
  });

  it('refuses a client-credentials token with 403 access_denied (it has no openid scope, like at UAA)', async () => {
    const token = await serviceToken(emu, 'destination');
    const { status, body } = await userinfo(`Bearer ${token}`);
    expect(status).toBe(403);
    expect(body).toEqual({ error: 'access_denied', error_description: 'Invalid token does not contain resource id (openid)' });
  });

  it('answers 401 without a token, with a token that is not a JWT, signed by another key, or expired', async () => {
    expect(await userinfo()).toEqual({
      status: 401,
      body: { error: 'unauthorized', error_description: 'Full authentication is required to access this resource' },
    });
    expect(await userinfo('Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=')).toMatchObject({ status: 401, body: { error: 'unauthorized' } });

    const garbage = await userinfo('Bearer not-a-jwt');
    expect(garbage).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    // The claims of a real user token, signed with a key the emulator never published.
    const real = await emu.issueUserTokenDetails({ user: 'alice' });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ ...real.claims })
      .setProtectedHeader({ alg: 'RS256', kid: JSON.parse(Buffer.from(real.jwt.split('.')[0], 'base64url').toString()).kid })
      .sign(privateKey);
    expect(await userinfo(`Bearer ${forged}`)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    // The emulator's own token, once its clock has passed `exp`.
    emu.clock({ action: 'freeze' });
    try {
      const jwt = await emu.issueUserToken({ user: 'alice' });
      expect((await userinfo(`Bearer ${jwt}`)).status).toBe(200);
      emu.clock({ action: 'advance', by: '13h' });
      const expired = await userinfo(`Bearer ${jwt}`);
      expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
      expect(String(expired.body.error_description)).toMatch(/expired/i);
    } finally {
      emu.clock({ action: 'real' });
    }
  });
});
