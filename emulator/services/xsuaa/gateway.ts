import type { XsuaaView } from './state.ts';
import { completeUser, findTenant, type OAuthClient, type Tenant, type User } from '../../core/subaccount.ts';
import { basicCredentials } from '../../core/auth-header.ts';
/**
 * XSUAA behaviour without HTTP: client authentication, tenant resolution and the grants of `/oauth/token`
 * (client_credentials, password, jwt-bearer, refresh_token, authorization_code, saml2-bearer, token-exchange)
 * plus `/oauth/authorize`.
 */
import { commonNameOf } from '../../core/client-certificate.ts';
import type { Clock } from '../../core/clock.ts';
import { randomHex, safeDecode } from '../../core/ids.ts';
import { buildSignedAssertion, encodeAssertion, trustOf } from '../saml/index.ts';
import { SAML2_BEARER, TOKEN_EXCHANGE, TOKEN_TYPE, tokenExchangeSubject, userFromSamlAssertion } from './assertion-grants.ts';
import { badClientCredentials, invalidGrant, invalidRequest, OAuthError } from './errors.ts';
import { isIasToken } from '../../core/jwt.ts';
import { userFromIasClaims, type IasAssertionVerifier } from './ias-assertion.ts';
import type { MintedToken, TokenMinter, XsuaaClaims } from './tokens.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface TokenRequest {
  form: URLSearchParams;
  /** The `Authorization` header, if any. */
  authorization?: string | null;
  /** The `x-zid` header, if any. */
  zid?: string | null;
  /** The `Host` the client called, for tenant-by-subdomain. */
  host?: string | null;
  /** Subject DN of the TLS client certificate the face verified (issued by the emulator CA), if any. */
  clientCertificateSubject?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer' | 'N_A';
  issued_token_type?: string;
  id_token?: string;
  refresh_token?: string;
  expires_in: number;
  scope: string;
  jti: string;
}

export class XsuaaGateway {
  private readonly state: () => XsuaaView;
  private readonly minter: TokenMinter;
  private readonly clock: Clock;
  private iasVerifier?: IasAssertionVerifier;
  constructor(state: () => XsuaaView, minter: TokenMinter, clock: Clock) {
    this.state = state;
    this.minter = minter;
    this.clock = clock;
  }

  /** Trust the identity service (IAS): jwt-bearer then takes its user tokens as assertions (ias-assertion.ts). */
  trustIdentityService(verify: IasAssertionVerifier): void {
    this.iasVerifier = verify;
  }

  /** `/userinfo`: the user of a user token (UAA guards it with scope `openid`, which client tokens do not carry). */
  async userinfo(token: string): Promise<Record<string, unknown>> {
    const verified = await this.minter.verify(token);
    if (!verified.ok) throw new OAuthError(401, 'invalid_token', verified.reason);
    const cl = verified.claims;
    // UAA guards /userinfo with the resource id and scope `openid`, which user tokens carry and client tokens do not.
    if (!cl.scope.includes('openid')) throw new OAuthError(403, 'access_denied', 'Invalid token does not contain resource id (openid)');
    return {
      user_id: cl.user_id,
      sub: cl.sub,
      user_name: cl.user_name,
      email: cl.email,
      given_name: cl.given_name,
      family_name: cl.family_name,
      origin: cl.origin,
      zid: cl.zid,
    };
  }

  /** Tenant from `x-zid`, else the host's first label when it is a tenant's subdomain, else the provider. */
  resolveTenant(zid?: string | null, host?: string | null): Tenant {
    return this.tenantNamedBy(zid, host) ?? this.state().provider;
  }

  /** The tenant a token request addresses as {@link resolveTenant} finds it, but undefined for an unknown x-zid (for fault matching). */
  tenantOfRequest(zid?: string | null, host?: string | null): Tenant | undefined {
    const state = this.state();
    return zid ? findTenant(state, { zid }) : (tenantByHost(state, host) ?? state.provider);
  }

  /** The tenant a request names (by `x-zid` or by subdomain), or undefined when it names none. */
  private tenantNamedBy(zid?: string | null, host?: string | null): Tenant | undefined {
    const state = this.state();
    if (zid) {
      const tenant = findTenant(state, { zid });
      if (!tenant)
        throw invalidRequest(`x-zid "${zid}" is not a zone of this emulator (known: ${state.tenants.map((t) => t.zid).join(', ')})`);
      return tenant;
    }
    return tenantByHost(state, host);
  }

  authenticateClient(req: TokenRequest): OAuthClient {
    let id = req.form.get('client_id') ?? undefined;
    let secret = req.form.get('client_secret') ?? undefined;
    const auth = req.authorization;
    if (auth && /^basic /i.test(auth)) {
      const basic = basicCredentials(auth);
      if ('problem' in basic) throw badClientCredentials(basic.problem);
      ({ id, secret } = basic);
    }
    if (!id) throw badClientCredentials('no client_id in the body and no Basic Authorization header');
    const client = this.state().clients.get(id) ?? this.state().clients.get(safeDecode(id));
    if (!client) throw badClientCredentials(`unknown client_id "${id}"`);
    if (secret === undefined && req.clientCertificateSubject) {
      // mTLS (x509 bindings): the verified certificate's CN names the client.
      const cn = commonNameOf(req.clientCertificateSubject);
      if (cn === client.clientid) return client;
      throw badClientCredentials(
        `the TLS client certificate (${req.clientCertificateSubject}) was not issued to client "${client.clientid}"`,
      );
    }
    if (secret === undefined) throw badClientCredentials(`no client_secret and no TLS client certificate for client "${id}"`);
    if (secret !== client.clientsecret && safeDecode(secret) !== client.clientsecret)
      throw badClientCredentials(`wrong client_secret for client "${id}"`);
    return client;
  }

  async token(req: TokenRequest): Promise<TokenResponse> {
    const grantType = req.form.get('grant_type');
    if (!grantType) throw invalidRequest('Missing grant type');
    const client = this.authenticateClient(req);
    switch (grantType) {
      case 'client_credentials':
        return this.clientCredentials(client, req);
      case 'password':
        return this.password(client, req);
      case JWT_BEARER:
        return this.jwtBearer(client, req);
      case 'refresh_token':
        return this.refresh(client, req);
      case 'authorization_code':
        return this.authorizationCode(client, req);
      case SAML2_BEARER:
        return this.saml2Bearer(client, req);
      case TOKEN_EXCHANGE:
        return this.tokenExchange(client, req);
      default:
        throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType}`);
    }
  }

  private async clientCredentials(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const tenant = this.resolveTenant(req.zid, req.host);
    const scopes = narrowScopes(client.authorities, req.form.get('scope'));
    const azAttr = parseAzAttr(req.form.get('authorities'));
    const minted = await this.minter.mint({
      client,
      tenant,
      grantType: 'client_credentials',
      scopes,
      extraClaims: azAttr ? { az_attr: azAttr } : undefined,
    });
    return tokenResponse(minted);
  }

  private async password(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const username = req.form.get('username');
    const password = req.form.get('password');
    if (!username) throw invalidRequest('Missing parameter: username');
    if (password === null) throw invalidRequest('Missing parameter: password');
    const tenant = this.resolveTenant(req.zid, req.host);
    const user = this.state().users.get(username);
    if (!user || user.password === undefined || user.password !== password) {
      throw new OAuthError(401, 'invalid_client', `Bad credentials: wrong user name or password for "${username}"`);
    }
    this.assertUserMayUse(user, tenant);
    return this.userToken(client, tenant, user, 'password', req.form.get('scope'));
  }

  private async jwtBearer(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const assertion = req.form.get('assertion');
    if (!assertion) throw invalidRequest('Missing parameter: assertion');
    if (this.iasVerifier && isIasToken(assertion)) return this.iasJwtBearer(client, req, assertion, this.iasVerifier);
    const verified = await this.minter.verify(assertion);
    if (!verified.ok) throw new OAuthError(401, 'invalid_token', `The assertion is not accepted: ${verified.reason}`);
    const claims = verified.claims;
    if (!claims.user_name) throw invalidGrant('The assertion is not a user token (it has no user_name)');
    const tenant = this.tenantNamedBy(req.zid, req.host) ?? this.tenantOf(claims);
    if (tenant.zid !== claims.zid)
      throw invalidGrant(`The assertion was issued for zone ${claims.zid}, not for ${tenant.zid} (${tenant.subdomain})`);
    return this.userToken(client, tenant, this.userFromClaims(claims), JWT_BEARER, req.form.get('scope'));
  }

  /** jwt-bearer with an IAS user token (the IAS → XSUAA exchange): the tenant is its `app_tid`. */
  private async iasJwtBearer(
    client: OAuthClient,
    req: TokenRequest,
    assertion: string,
    verify: IasAssertionVerifier,
  ): Promise<TokenResponse> {
    const verified = await verify(assertion);
    if (!verified.ok) throw new OAuthError(401, 'invalid_token', `The assertion is not accepted: IAS token: ${verified.reason}`);
    const claims = verified.claims;
    if (claims.sap_id_type !== 'user')
      throw invalidGrant(`The assertion is not a user token (IAS sap_id_type "${claims.sap_id_type ?? ''}")`);
    const tenant = this.tenantNamedBy(req.zid, req.host) ?? this.tenantOrThrow(claims.app_tid);
    if (tenant.zid !== claims.app_tid)
      throw invalidGrant(`The assertion was issued for tenant ${claims.app_tid} (app_tid), not for ${tenant.zid} (${tenant.subdomain})`);
    const user = userFromIasClaims(claims, this.state());
    this.assertUserMayUse(user, tenant);
    return this.userToken(client, tenant, user, JWT_BEARER, req.form.get('scope'));
  }

  private async refresh(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const token = req.form.get('refresh_token');
    if (!token) throw invalidRequest('Missing parameter: refresh_token');
    const entry = this.state().refreshTokens.get(token);
    if (!entry) throw new OAuthError(401, 'invalid_token', 'Invalid refresh token (unknown or revoked)');
    if (entry.clientid !== client.clientid) throw invalidGrant(`The refresh token was issued to client "${entry.clientid}"`);
    const tenant = this.tenantOrThrow(entry.zid);
    return this.userToken(client, tenant, this.userByName(entry.user), 'refresh_token', null);
  }

  private async authorizationCode(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const code = req.form.get('code');
    if (!code) throw invalidRequest('Missing parameter: code');
    const entry = this.state().authCodes.get(code);
    this.state().authCodes.delete(code);
    if (!entry || entry.expiresAt < this.clock.now()) throw invalidGrant(`Invalid authorization code: ${code}`);
    if (entry.clientid !== client.clientid) throw invalidGrant(`The code was issued to client "${entry.clientid}"`);
    if (entry.redirectUri && req.form.get('redirect_uri') !== entry.redirectUri) throw invalidGrant('Redirect URI mismatch.');
    if (entry.codeChallenge) {
      const verifier = req.form.get('code_verifier');
      if (!verifier) throw invalidGrant('PKCE error: Code verifier required.');
      const expected = entry.codeChallengeMethod === 'S256' ? await s256(verifier) : verifier;
      if (expected !== entry.codeChallenge) throw invalidGrant('PKCE error: Code verifier does not match code challenge.');
    }
    return this.userToken(client, this.tenantOrThrow(entry.zid), this.userByName(entry.user), 'authorization_code', null);
  }

  /** RFC 7522: a user token for the subject of a SAML assertion signed with a trust certificate of this emulator. */
  private async saml2Bearer(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const assertion = req.form.get('assertion');
    if (!assertion) throw invalidRequest('Missing parameter: assertion');
    const user = await userFromSamlAssertion(assertion, this.state(), this.clock.now());
    const tenant = this.resolveTenant(req.zid, req.host);
    this.assertUserMayUse(user, tenant);
    return this.userToken(client, tenant, user, SAML2_BEARER, req.form.get('scope'));
  }

  /** RFC 8693 for tokens of this XSUAA: a user token for the subject, or (requested_token_type saml2) a signed SAML assertion. */
  private async tokenExchange(client: OAuthClient, req: TokenRequest): Promise<TokenResponse> {
    const subject = await tokenExchangeSubject(req.form, this.minter);
    const tenant = this.tenantNamedBy(req.zid, req.host) ?? this.tenantOf(subject.claims);
    if (subject.requestedTokenType === TOKEN_TYPE.saml2) {
      const keys = (await trustOf(this.state(), tenant)).active;
      const issuer = new URL(subject.claims.iss).origin;
      const cfg = {
        Name: 'token-exchange',
        Type: 'HTTP' as const,
        audience: req.form.get('resource') ?? req.form.get('audience') ?? issuer,
      };
      const xml = await buildSignedAssertion({ cfg, claims: subject.claims, issuer, now: this.clock.now(), keys });
      return {
        access_token: encodeAssertion(xml, 'base64url'),
        token_type: 'N_A',
        issued_token_type: TOKEN_TYPE.saml2,
        expires_in: 600,
        scope: '',
        jti: randomHex(16),
      };
    }
    const response = await this.userToken(client, tenant, this.userFromClaims(subject.claims), TOKEN_EXCHANGE, req.form.get('scope'));
    return { ...response, issued_token_type: subject.requestedTokenType };
  }

  /** `/oauth/authorize`: signs in `user` (or the scenario's default user) without a form and returns the redirect. */
  authorize(params: URLSearchParams, host?: string | null): string {
    if (params.get('response_type') !== 'code') throw invalidRequest('response_type must be "code"');
    const clientid = params.get('client_id');
    const client = clientid ? this.state().clients.get(clientid) : undefined;
    if (!client) throw badClientCredentials(`unknown client_id "${clientid ?? ''}"`);
    const redirectUri = params.get('redirect_uri') ?? client.redirectUris[0];
    if (!redirectUri) throw invalidRequest('Missing parameter: redirect_uri');
    if (client.redirectUris.length && !client.redirectUris.some((u) => matchesRedirect(u, redirectUri))) {
      throw invalidRequest(`redirect_uri "${redirectUri}" is not registered for client "${client.clientid}"`);
    }
    const tenant = this.resolveTenant(params.get('zid'), host);
    const userName = params.get('user') ?? this.state().defaultUser;
    if (!userName) throw invalidRequest('No user to sign in: pass ?user=<name> or declare users in the scenario');
    const user = this.userByName(userName);
    this.assertUserMayUse(user, tenant);
    const code = randomHex(12);
    this.state().authCodes.set(code, {
      clientid: client.clientid,
      zid: tenant.zid,
      user: user.name,
      redirectUri: params.get('redirect_uri') ?? undefined,
      codeChallenge: params.get('code_challenge') ?? undefined,
      codeChallengeMethod: params.get('code_challenge_method') ?? undefined,
      expiresAt: this.clock.now() + 10 * 60_000,
    });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    const state = params.get('state');
    if (state) target.searchParams.set('state', state);
    return target.toString();
  }

  /** A user token for the app's xsuaa client, as `issueUserToken` and the control API hand it out. */
  async issueUserToken(opts: { user: string; tenant?: string; scopes?: string[]; clientid?: string }): Promise<MintedToken> {
    const state = this.state();
    const tenant = opts.tenant ? findTenant(state, { name: opts.tenant }) : state.provider;
    if (!tenant) throw invalidRequest(`tenant "${opts.tenant}" is not a subdomain or zid of this emulator`);
    const clientid = opts.clientid ?? state.bindings.find((b) => b.service === 'xsuaa')!.clientid;
    const client = state.clients.get(clientid);
    if (!client) throw invalidRequest(`client "${clientid}" is not known`);
    const user = state.users.get(opts.user) ?? completeUser({ name: opts.user });
    const withScopes = opts.scopes ? { ...user, scopes: opts.scopes } : user;
    return this.minter.mint({
      client,
      tenant,
      grantType: 'authorization_code',
      user: withScopes,
      scopes: this.userScopes(client, withScopes, null),
    });
  }

  private async userToken(
    client: OAuthClient,
    tenant: Tenant,
    user: User,
    grantType: string,
    scopeParam: string | null,
  ): Promise<TokenResponse> {
    const scopes = this.userScopes(client, user, scopeParam);
    const minted = await this.minter.mint({ client, tenant, grantType, user, scopes });
    const refreshToken = `${randomHex(16)}-r`;
    this.state().refreshTokens.set(refreshToken, { clientid: client.clientid, zid: tenant.zid, user: user.name });
    const response = tokenResponse(minted);
    response.refresh_token = refreshToken;
    if (scopes.includes('openid')) {
      const id = await this.minter.mint({ client, tenant, grantType, user, scopes: ['openid'], extraClaims: { aud: [client.clientid] } });
      response.id_token = id.jwt;
    }
    return response;
  }

  /** The user's scopes for this client: local names get the app's xsappname; `openid` and `uaa.user` always. */
  private userScopes(client: OAuthClient, user: User, scopeParam: string | null): string[] {
    const xsappname = client.xsappname ?? this.state().bindings.find((b) => b.service === 'xsuaa')!.xsappname;
    const all = [...new Set(['openid', 'uaa.user', ...user.scopes.map((s) => (s.includes('.') ? s : `${xsappname}.${s}`))])];
    return narrowScopes(all, scopeParam);
  }

  private assertUserMayUse(user: User, tenant: Tenant): void {
    if (user.tenants.length && !user.tenants.includes(tenant.subdomain)) {
      throw new OAuthError(401, 'unauthorized', `User "${user.name}" may not sign in to tenant "${tenant.subdomain}"`);
    }
  }

  private userFromClaims(claims: XsuaaClaims): User {
    const known = this.state().users.get(String(claims.user_name));
    return (
      known ??
      completeUser({
        name: String(claims.user_name),
        email: claims.email,
        userId: claims.user_id,
        origin: claims.origin,
        givenName: claims.given_name,
        familyName: claims.family_name,
        attributes: claims['xs.user.attributes'],
      })
    );
  }

  private userByName(name: string): User {
    return this.state().users.get(name) ?? completeUser({ name });
  }

  private tenantOf(claims: XsuaaClaims): Tenant {
    return this.tenantOrThrow(claims.zid);
  }

  private tenantOrThrow(zid: string): Tenant {
    const tenant = findTenant(this.state(), { zid });
    if (!tenant) throw invalidGrant(`zone ${zid} no longer exists`);
    return tenant;
  }
}

function tokenResponse(minted: MintedToken): TokenResponse {
  return {
    access_token: minted.jwt,
    token_type: 'bearer',
    expires_in: minted.expiresIn,
    scope: minted.claims.scope.join(' '),
    jti: minted.claims.jti,
  };
}

function narrowScopes(allowed: string[], requested: string | null): string[] {
  if (!requested) return allowed;
  const wanted = requested.split(/[\s,]+/).filter(Boolean);
  const missing = wanted.filter((s) => !allowed.includes(s));
  if (missing.length) throw new OAuthError(400, 'invalid_scope', `Invalid scope: ${missing.join(' ')}. Allowed: ${allowed.join(' ')}`);
  return wanted;
}

function parseAzAttr(value: string | null): Record<string, string> | undefined {
  if (!value) return undefined;
  try {
    return (JSON.parse(value) as { az_attr?: Record<string, string> }).az_attr;
  } catch {
    throw invalidRequest('authorities must be JSON like {"az_attr":{"key":"value"}}');
  }
}

/** The tenant whose subdomain is the host's first label (`<subdomain>.localhost:20000`), if any. */
function tenantByHost(state: XsuaaView, host?: string | null): Tenant | undefined {
  const label = host?.includes('.') ? host.split('.')[0] : undefined;
  return label ? findTenant(state, { subdomain: label }) : undefined;
}

/** `Authorization: Basic …` as client id and secret, or what is wrong with it. */

function matchesRedirect(pattern: string, uri: string): boolean {
  if (!pattern.includes('*')) return pattern === uri;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(uri);
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
