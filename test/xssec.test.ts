/**
 * @sap/xssec 4, unmodified, validates the emulator's tokens with the emulator's xsuaa binding: it fetches the
 * JWKS over https from `uaadomain` (trusting the emulator CA through NODE_EXTRA_CA_CERTS) and checks
 * signature, expiry and audience. Tampered, expired and foreign tokens are rejected; so are tokens the emulator
 * itself refuses (expired on its clock, issued to another client, signed with a key it rotated out).
 */
import { createSecurityContext, XsuaaService } from '@sap/xssec';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { binding, serviceToken } from './helpers.ts';
import { expiredUserToken } from './refused-tokens.ts';

const claimsOf = (ctx: { token: { payload: object } }): { ext_attr: { zdn: string }; client_id: string } =>
  ctx.token.payload as { ext_attr: { zdn: string }; client_id: string };

let emu: EmulatorHandle;
let service: XsuaaService;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: {
      tenants: [{ subdomain: 'provider' }, { subdomain: 'tenant-b' }],
      users: [{ name: 'alice', email: 'alice@example.com', scopes: ['Display'], attributes: { Country: ['DE'] } }],
    },
  });
  service = new XsuaaService(binding(emu, 'xsuaa') as never);
});

afterAll(() => emu?.stop());

describe('@sap/xssec against the emulator', () => {
  it('accepts a user token the emulator issued and exposes its user, scopes and tenant', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const ctx = await createSecurityContext(service, { jwt });
    const creds = binding(emu, 'xsuaa');
    expect(ctx.token.payload.user_name).toBe('alice');
    expect(ctx.getEmail()).toBe('alice@example.com');
    expect(ctx.checkLocalScope('Display')).toBe(true);
    expect(ctx.checkLocalScope('Admin')).toBe(false);
    expect(ctx.getZoneId()).toBe(creds.tenantid);
    expect(claimsOf(ctx).ext_attr.zdn).toBe('provider');
  });

  it('accepts a token of a subscriber tenant (JWKS fetched with ?zid=)', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice', tenant: 'tenant-b' });
    const ctx = await createSecurityContext(service, { jwt });
    expect(claimsOf(ctx).ext_attr.zdn).toBe('tenant-b');
    expect(emu.journal({ service: 'xsuaa' }).some((e) => e.path.startsWith('/token_keys?zid='))).toBe(true);
  });

  it('rejects a tampered token', async () => {
    const jwt = await emu.issueUserToken({ user: 'alice' });
    const [header, payload, signature] = jwt.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.user_name = 'mallory';
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await expect(createSecurityContext(service, { jwt: tampered })).rejects.toThrow(/signature/i);
  });

  it('rejects an expired token (the emulator clock minted it 13 hours ago; the emulator refuses it too)', async () => {
    const jwt = await expiredUserToken(emu, 'alice');
    await expect(createSecurityContext(service, { jwt })).rejects.toThrow(/expired/i);
  });

  it('rejects a token from a foreign issuer signed with another key under the same kid', async () => {
    const genuine = await emu.issueUserToken({ user: 'alice' });
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ ...decodeProtectedHeader(genuine), alg: 'RS256' })
      .sign(privateKey);
    await expect(createSecurityContext(service, { jwt: forged })).rejects.toThrow(/signature/i);
  });

  it('rejects a token signed with a key the emulator does not publish', async () => {
    const genuine = await emu.issueUserToken({ user: 'alice' });
    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT(decodeJwt(genuine))
      .setProtectedHeader({ alg: 'RS256', kid: 'someone-elses-key', typ: 'JWT' })
      .sign(privateKey);
    await expect(createSecurityContext(service, { jwt: foreign })).rejects.toThrow(/kid/i);
  });

  it('rejects a token issued for another application (audience)', async () => {
    const other = new XsuaaService({ ...binding(emu, 'xsuaa'), clientid: 'sb-other!t9', xsappname: 'other!t9' } as never);
    const jwt = await emu.issueUserToken({ user: 'alice' });
    await expect(createSecurityContext(other, { jwt })).rejects.toThrow(/audience/i);
  });

  it('rejects a token the emulator issued to another client (the destination binding): its audience is not this app', async () => {
    const foreign = await serviceToken(emu, 'destination');
    expect(decodeJwt(foreign).aud).not.toContain(binding(emu, 'xsuaa').clientid);
    await expect(createSecurityContext(service, { jwt: foreign })).rejects.toThrow(/audience/i);
  });

  it('fetches client credentials and password tokens through xssec', async () => {
    const cc = await service.fetchClientCredentialsToken();
    expect(decodeJwt(cc.access_token).grant_type).toBe('client_credentials');
    const ctx = await createSecurityContext(service, { jwt: cc.access_token });
    expect(claimsOf(ctx).client_id).toBe(binding(emu, 'xsuaa').clientid);
    const zidToken = await service.fetchClientCredentialsToken({ zid: emu.core.state.tenants[1].zid });
    expect((decodeJwt(zidToken.access_token).ext_attr as { zdn: string }).zdn).toBe('tenant-b');
  });
});

describe('@sap/xssec after the emulator rotates its signing key without keepOld', () => {
  // An emulator of its own: the rotation changes the key ring, which emu.reset() does not restore.
  let rotating: EmulatorHandle;
  beforeAll(async () => {
    rotating = await startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }], users: [{ name: 'alice' }] } });
  });
  afterAll(() => rotating?.stop());

  it('a token signed with the dropped key is refused; one the new key signed is accepted', async () => {
    const fresh = (): XsuaaService => new XsuaaService(binding(rotating, 'xsuaa') as never); // no JWKS cached yet
    const before = await rotating.issueUserToken({ user: 'alice' });
    expect(claimsOf(await createSecurityContext(fresh(), { jwt: before })).ext_attr.zdn).toBe('provider');
    await rotating.rotateSigningKey({ keepOld: false });
    const after = await rotating.issueUserToken({ user: 'alice' });
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    await expect(createSecurityContext(fresh(), { jwt: before })).rejects.toThrow(/kid/i);
    expect(claimsOf(await createSecurityContext(fresh(), { jwt: after })).ext_attr.zdn).toBe('provider');
  });
});
