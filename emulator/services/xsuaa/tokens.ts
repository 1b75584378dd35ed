import { type OAuthClient, type Tenant, type User } from '../../core/subaccount.ts';
import type { PublicUrls } from '../../core/urls.ts';
/** Minting and verifying XSUAA-style RS256 JWTs with the claims SAP's clients read (see reference §3). */
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type Clock, nowSeconds } from '../../core/clock.ts';
import { randomHex } from '../../core/ids.ts';
import type { KeyRing } from '../../core/signing-keys.ts';

/** Where the emulator is reachable, as the bindings advertise it. */

export interface XsuaaClaims {
  jti: string;
  ext_attr: { enhancer: 'XSUAA'; subaccountid: string; zdn: string; serviceinstanceid?: string };
  sub: string;
  scope: string[];
  client_id: string;
  cid: string;
  azp: string;
  grant_type: string;
  zid: string;
  iss: string;
  aud: string[];
  iat: number;
  exp: number;
  rev_sig: string;
  authorities?: string[];
  az_attr?: Record<string, string>;
  user_id?: string;
  user_name?: string;
  email?: string;
  given_name?: string;
  family_name?: string;
  origin?: string;
  auth_time?: number;
  'xs.user.attributes'?: Record<string, string[]>;
  'xs.system.attributes'?: { 'xs.rolecollections': string[] };
  [claim: string]: unknown;
}

export interface MintRequest {
  client: OAuthClient;
  tenant: Tenant;
  grantType: string;
  user?: User;
  scopes: string[];
  /** Lifetime in seconds; XSUAA's default is 12 h. */
  lifetime?: number;
  extraClaims?: Record<string, unknown>;
}

export interface MintedToken {
  jwt: string;
  claims: XsuaaClaims;
  expiresIn: number;
}

export const defaultTokenLifetime = 43200;

/** `my-app!t1.Read` → `my-app!t1`, `uaa.resource` → `uaa`, `openid` → `openid` (UAA's audience rule). */
const scopeBase = (scope: string): string => (scope.includes('.') ? scope.slice(0, scope.lastIndexOf('.')) : scope);

export function audienceFor(clientid: string, scopes: string[]): string[] {
  return [...new Set([clientid, ...scopes.map(scopeBase)])];
}

export const issuerFor = (urls: PublicUrls, tenant: Tenant): string => `https://${tenant.subdomain}.${urls.uaaDomain}/oauth/token`;

export class TokenMinter {
  private readonly keys: KeyRing;
  private readonly clock: Clock;
  private readonly getUrls: () => PublicUrls;
  constructor(keys: KeyRing, clock: Clock, getUrls: () => PublicUrls) {
    this.keys = keys;
    this.clock = clock;
    this.getUrls = getUrls;
  }

  /** The emulator clock's current time in ms (for artefacts that are not JWTs, e.g. SAML assertions). */
  now(): number {
    return this.clock.now();
  }

  async mint(req: MintRequest): Promise<MintedToken> {
    const urls = this.getUrls();
    const iat = nowSeconds(this.clock);
    const lifetime = req.lifetime ?? req.client.tokenValidity ?? defaultTokenLifetime;
    const { client, tenant, user } = req;
    const claims: XsuaaClaims = {
      jti: randomHex(16),
      ext_attr: {
        enhancer: 'XSUAA',
        subaccountid: tenant.subaccountId,
        zdn: tenant.subdomain,
        ...(client.binding ? { serviceinstanceid: client.binding.instanceid } : {}),
      },
      ...(user
        ? {
            'xs.system.attributes': { 'xs.rolecollections': user.roleCollections },
            given_name: user.givenName,
            'xs.user.attributes': user.attributes,
            family_name: user.familyName,
          }
        : {}),
      sub: user ? user.userId : client.clientid,
      ...(user ? {} : { authorities: req.scopes }),
      scope: req.scopes,
      client_id: client.clientid,
      cid: client.clientid,
      azp: client.clientid,
      grant_type: req.grantType,
      ...(user ? { user_id: user.userId, origin: user.origin, user_name: user.name, email: user.email, auth_time: iat } : {}),
      rev_sig: randomHex(4),
      iat,
      exp: iat + lifetime,
      iss: issuerFor(urls, tenant),
      zid: tenant.zid,
      aud: audienceFor(client.clientid, req.scopes),
      ...req.extraClaims,
    };
    const key = this.keys.active;
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', jku: `https://${urls.uaaDomain}/token_keys`, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
    return { jwt, claims, expiresIn: lifetime - 1 };
  }

  /** Verify signature and expiry against the emulator's keys and clock; the reason says what is wrong. */
  async verify(jwt: string): Promise<{ ok: true; claims: XsuaaClaims } | { ok: false; reason: string }> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jwt).kid;
    } catch {
      return { ok: false, reason: 'the token is not a JWT' };
    }
    const key = this.keys.byKid(kid);
    if (!key) return { ok: false, reason: `the token was signed with key "${kid ?? '(none)'}", which this XSUAA does not know` };
    try {
      const { payload } = await jwtVerify(jwt, key.publicKey, { algorithms: ['RS256'], currentDate: new Date(this.clock.now()) });
      return { ok: true, claims: payload as XsuaaClaims };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        const exp = Number((err.payload as { exp?: number }).exp);
        return { ok: false, reason: `the token expired ${nowSeconds(this.clock) - exp} s ago` };
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'the token signature is invalid' };
      return { ok: false, reason: `the token is invalid: ${(err as Error).message}` };
    }
  }
}

/** Decode without verifying (for tokens from other issuers). */
