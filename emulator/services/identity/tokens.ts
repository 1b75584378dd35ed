/**
 * Minting and verifying the identity service's (IAS) RS256 JWTs, with the claims @sap/xssec's IdentityService and the
 * SAP Cloud SDK read, signed with the identity service's own key ring (its own kids, rotatable on the one clock).
 * Where a tenant's IAS lives: the provider at the identity origin (the binding's `url`), a subscriber one label
 * below the tenant domain (`https://<subdomain>.localhost:<port>`), as xssec's issuer check requires.
 */
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type Clock, nowSeconds } from '../../core/clock.ts';
import { randomHex } from '../../core/ids.ts';
import { KeyRing, type SigningKey } from '../../core/signing-keys.ts';
import type { Tenant, User } from '../../core/subaccount.ts';
import { defaultIdentityOrigin, type PublicUrls } from '../../core/urls.ts';

export interface IasClaims {
  iss: string;
  ias_iss: string;
  sub: string;
  aud: string[];
  azp: string;
  app_tid: string;
  sap_id_type: 'app' | 'user';
  jti: string;
  iat: number;
  exp: number;
  scim_id?: string;
  user_uuid?: string;
  email?: string;
  given_name?: string;
  family_name?: string;
  groups?: string[];
  cnf?: { 'x5t#S256': string };
  [claim: string]: unknown;
}

export interface IasMintRequest {
  /** The client the token is issued to (`azp`). */
  clientid: string;
  tenant: Tenant;
  /** The user of a user token; none for a technical (client credentials) token. */
  user?: User;
  /** `aud`; default: the client itself. */
  audience?: string[];
  /** The client certificate's `x5t#S256` when the client authenticated with it (becomes `cnf`). */
  x5t?: string;
  /** Lifetime in seconds; IAS's default is one hour. */
  lifetime?: number;
  extraClaims?: Record<string, unknown>;
}

export interface MintedIasToken {
  jwt: string;
  claims: IasClaims;
  expiresIn: number;
}

export const defaultIasTokenLifetime = 3600;

/** The hosts of the identity service: the provider's origin, the tenant domain, the `domains` of a binding. */
export class IdentityHosts {
  readonly origin: string;
  /** `host:port` that subscriber tenants are one label below (`localhost:<port>` for a loopback origin). */
  readonly tenantDomain: string;
  constructor(urls: PublicUrls) {
    const url = new URL(urls.identityOrigin ?? defaultIdentityOrigin);
    this.origin = url.origin;
    const loopback = url.hostname === 'localhost' || /^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('[');
    this.tenantDomain = loopback ? `localhost${url.port ? `:${url.port}` : ''}` : url.host;
  }
  /** What xssec trusts as issuers: the origin's host and the tenant domain (and one label below either). */
  get domains(): string[] {
    return [...new Set([new URL(this.origin).host, this.tenantDomain])];
  }
  issuerFor(tenant: Tenant): string {
    return tenant.isProvider ? this.origin : `https://${tenant.subdomain}.${this.tenantDomain}`;
  }
  /** The subdomain a Host names (`<subdomain>.<tenant domain>`), if it is one. */
  subdomainOf(host: string | null | undefined): string | undefined {
    const lower = host?.toLowerCase();
    if (!lower?.endsWith(`.${this.tenantDomain}`)) return undefined;
    const label = lower.slice(0, -this.tenantDomain.length - 1);
    return label.includes('.') ? undefined : label;
  }
}

/** The identity service's key ring: XSUAA's key material under its own kid to start with, rotated on its own. */
export function identityKeyRing(xsuaaKeys: KeyRing): KeyRing {
  const active = xsuaaKeys.active;
  const kid = `ias-${active.kid}`;
  const key: SigningKey = { ...active, kid, publicJwk: { ...active.publicJwk, kid } };
  return new KeyRing(key);
}

export type IasVerification = { ok: true; claims: IasClaims } | { ok: false; reason: string };

export class IdentityTokenMinter {
  readonly keys: KeyRing;
  private readonly clock: Clock;
  private readonly getUrls: () => PublicUrls;
  constructor(keys: KeyRing, clock: Clock, getUrls: () => PublicUrls) {
    this.keys = keys;
    this.clock = clock;
    this.getUrls = getUrls;
  }

  hosts(): IdentityHosts {
    return new IdentityHosts(this.getUrls());
  }

  async mint(req: IasMintRequest): Promise<MintedIasToken> {
    const iat = nowSeconds(this.clock);
    const lifetime = req.lifetime ?? defaultIasTokenLifetime;
    const issuer = this.hosts().issuerFor(req.tenant);
    const { user } = req;
    const claims: IasClaims = {
      iss: issuer,
      ias_iss: issuer,
      sub: user ? user.userId : req.clientid,
      aud: req.audience?.length ? req.audience : [req.clientid],
      azp: req.clientid,
      app_tid: req.tenant.zid,
      sap_id_type: user ? 'user' : 'app',
      ...(user
        ? {
            scim_id: user.userId,
            user_uuid: user.userId,
            email: user.email,
            given_name: user.givenName,
            family_name: user.familyName,
            groups: user.roleCollections,
          }
        : {}),
      ...(req.x5t ? { cnf: { 'x5t#S256': req.x5t } } : {}),
      jti: crypto.randomUUID(),
      iat,
      exp: iat + lifetime,
      ...req.extraClaims,
    };
    const key = this.keys.active;
    const jwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
    return { jwt, claims, expiresIn: lifetime };
  }

  /**
   * Verify an IAS token of this emulator: signature (a key of the identity ring), expiry on the emulator's clock, an
   * issuer of one of its tenants and, with `audience`, that `aud` contains it. The reason says what is wrong.
   */
  async verify(jwt: string, options: { audience?: string; tenants?: Tenant[] } = {}): Promise<IasVerification> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jwt).kid;
    } catch {
      return { ok: false, reason: 'the token is not a JWT' };
    }
    const key = this.keys.byKid(kid);
    if (!key) return { ok: false, reason: `the token was signed with key "${kid ?? '(none)'}", which this identity service does not know` };
    let claims: IasClaims;
    try {
      const { payload } = await jwtVerify(jwt, key.publicKey, { algorithms: ['RS256'], currentDate: new Date(this.clock.now()) });
      claims = payload as IasClaims;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        const exp = Number((err.payload as { exp?: number }).exp);
        return { ok: false, reason: `the token expired ${nowSeconds(this.clock) - exp} s ago` };
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'the token signature is invalid' };
      return { ok: false, reason: `the token is invalid: ${(err as Error).message}` };
    }
    const hosts = this.hosts();
    const issuer = claims.ias_iss ?? claims.iss;
    if (options.tenants) {
      const tenant = options.tenants.find((t) => t.zid === claims.app_tid);
      if (!tenant) return { ok: false, reason: `app_tid "${String(claims.app_tid)}" is not a tenant of this emulator` };
      if (hosts.issuerFor(tenant) !== issuer)
        return { ok: false, reason: `the issuer "${String(issuer)}" is not the identity service of tenant ${tenant.subdomain}` };
    }
    const aud = [claims.aud ?? []].flat();
    if (options.audience && !aud.includes(options.audience))
      return { ok: false, reason: `the token's audience (${aud.join(', ')}) does not contain "${options.audience}"` };
    return { ok: true, claims };
  }
}

/** A random opaque token (refresh tokens, codes). */
export const opaqueToken = (): string => randomHex(20);
