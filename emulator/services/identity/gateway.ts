/**
 * The identity service (IAS) without HTTP: client authentication (secret or the binding's certificate), the tenant
 * a request addresses (`app_tid`, else the Host's subdomain, else the provider), app-to-app `resource`, and the
 * grants of `/oauth2/token` (client_credentials, password, authorization_code, refresh_token, jwt-bearer, token
 * exchange) plus `/oauth2/authorize`. A refused request changes nothing (a code is used up only when it is redeemed).
 */
import { basicCredentials } from '../../core/auth-header.ts';
import { commonNameOf } from '../../core/client-certificate.ts';
import type { Clock } from '../../core/clock.ts';
import { safeDecode } from '../../core/ids.ts';
import { completeUser, findTenant, type Tenant, type User } from '../../core/subaccount.ts';
import { IdentityOAuthError, invalidClient, invalidGrant, invalidRequest, invalidTarget, unsupportedGrantType } from './errors.ts';
import type { IdentityApplication, IdentityView } from './state.ts';
import { type IasClaims, type IdentityTokenMinter, type MintedIasToken, opaqueToken } from './tokens.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPES = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
};
const RESOURCE_BY_NAME = 'urn:sap:identity:application:provider:name:';
const RESOURCE_BY_CLIENTID = /^urn:sap:identity:application:provider:clientid:([^:]+)(?::apptid:([^:]+))?$/;
/** A BTP service instance as the resource (the connectivity proxy's token with `token-type` `ias`). */
const RESOURCE_BY_SERVICE_ID = 'urn:sap:identity:application:service:id:';

export interface IdentityTokenRequest {
  form: URLSearchParams;
  authorization?: string | null;
  /** The `Host` the client called (a subscriber's `<subdomain>.localhost:<port>`). */
  host?: string | null;
  /** Subject DN of the TLS client certificate the face verified, if any. */
  clientCertificateSubject?: string;
  /** That certificate's `x5t#S256`. */
  clientCertificateX5t?: string;
}

export interface IdentityTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  issued_token_type?: string;
  scope?: string;
}

interface Caller {
  app: IdentityApplication;
  /** Set when the client authenticated with its certificate: tokens get `cnf`. */
  x5t?: string;
}

export interface IdentityApplicationView {
  name: string;
  clientid: string;
  binding: string;
  credentialType: 'binding-secret' | 'X509_GENERATED';
  /** Names of the provider applications it consumes. */
  consumes: string[];
  /** Names of the applications that consume it. */
  consumedBy: string[];
}

export class IdentityGateway {
  private readonly state: () => IdentityView;
  readonly minter: IdentityTokenMinter;
  private readonly clock: Clock;
  constructor(state: () => IdentityView, minter: IdentityTokenMinter, clock: Clock) {
    this.state = state;
    this.minter = minter;
    this.clock = clock;
  }

  applications(): IdentityApplicationView[] {
    const apps = this.state().identity.applications;
    return apps.map((a) => ({
      name: a.name,
      clientid: a.clientid,
      binding: a.binding.name,
      credentialType: a.binding.credentialType === 'x509' ? 'X509_GENERATED' : 'binding-secret',
      consumes: a.consumes.map((c) => apps.find((p) => p.clientid === c)?.name ?? c),
      consumedBy: apps.filter((c) => c.consumes.includes(a.clientid)).map((c) => c.name),
    }));
  }

  application(clientid: string): IdentityApplication | undefined {
    return this.state().identity.applications.find((a) => a.clientid === clientid);
  }

  /** The tenant a request addresses: `app_tid` (a zid), else the Host's subdomain, else the provider. */
  resolveTenant(appTid: string | null | undefined, host: string | null | undefined): Tenant {
    const state = this.state();
    if (appTid) {
      const tenant = findTenant(state, { zid: appTid }) ?? state.tenants.find((t) => t.subaccountId === appTid);
      if (!tenant)
        throw invalidRequest(
          `app_tid "${appTid}" is not a tenant of this identity service (known: ${state.tenants.map((t) => t.zid).join(', ')})`,
        );
      return tenant;
    }
    const subdomain = this.minter.hosts().subdomainOf(host);
    if (subdomain) {
      const tenant = findTenant(state, { subdomain });
      if (!tenant)
        throw invalidRequest(
          `host "${host ?? ''}" names no tenant: "${subdomain}" is not a subdomain of this emulator (known: ${state.tenants.map((t) => t.subdomain).join(', ')})`,
        );
      return tenant;
    }
    return state.provider;
  }

  authenticate(req: IdentityTokenRequest): Caller {
    let id = req.form.get('client_id') ?? undefined;
    let secret = req.form.get('client_secret') ?? undefined;
    if (req.authorization && /^basic /i.test(req.authorization)) {
      const basic = basicCredentials(req.authorization);
      if ('problem' in basic) throw invalidClient(basic.problem);
      ({ id, secret } = basic);
    }
    if (!id) throw invalidClient('no client_id in the body and no Basic Authorization header');
    const app = this.application(id) ?? this.application(safeDecode(id));
    if (!app) throw invalidClient(`unknown client_id "${id}" (the identity applications: ${this.applicationList()})`);
    if (secret === undefined && req.clientCertificateSubject) {
      if (commonNameOf(req.clientCertificateSubject) === app.clientid) return { app, x5t: req.clientCertificateX5t };
      throw invalidClient(`the TLS client certificate (${req.clientCertificateSubject}) was not issued to client "${app.clientid}"`);
    }
    if (secret === undefined) throw invalidClient(`no client_secret and no TLS client certificate for client "${id}"`);
    if (secret !== app.clientsecret && safeDecode(secret) !== app.clientsecret)
      throw invalidClient(`wrong client_secret for client "${id}"`);
    return { app };
  }

  async token(req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const grantType = req.form.get('grant_type');
    if (!grantType) throw invalidRequest('grant_type is missing');
    const caller = this.authenticate(req);
    switch (grantType) {
      case 'client_credentials':
        return this.clientCredentials(caller, req);
      case 'password':
        return this.password(caller, req);
      case 'authorization_code':
        return this.authorizationCode(caller, req);
      case 'refresh_token':
        return this.refresh(caller, req);
      case JWT_BEARER:
        return this.assertionGrant(caller, req, req.form.get('assertion'), 'assertion');
      case TOKEN_EXCHANGE:
        return this.tokenExchange(caller, req);
      default:
        throw unsupportedGrantType(grantType);
    }
  }

  private async clientCredentials(caller: Caller, req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const tenant = this.resolveTenant(req.form.get('app_tid'), req.host);
    const audience = this.audience(caller.app, req.form.getAll('resource'));
    const minted = await this.mint({ clientid: caller.app.clientid, tenant, audience, x5t: caller.x5t });
    return { access_token: minted.jwt, token_type: 'Bearer', expires_in: minted.expiresIn };
  }

  private async password(caller: Caller, req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const username = req.form.get('username');
    const password = req.form.get('password');
    if (!username) throw invalidRequest('username is missing');
    if (password === null) throw invalidRequest('password is missing');
    const tenant = this.resolveTenant(req.form.get('app_tid'), req.host);
    const user = this.userByLogin(username);
    if (!user || user.password === undefined || user.password !== password)
      throw invalidGrant(`wrong user name or password for "${username}"`);
    this.assertUserMayUse(user, tenant);
    return this.userTokens(caller, req, tenant, user);
  }

  private async authorizationCode(caller: Caller, req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const code = req.form.get('code');
    if (!code) throw invalidRequest('code is missing');
    const codes = this.state().identity.authCodes;
    const entry = codes.get(code);
    if (!entry || entry.expiresAt < this.clock.now()) throw invalidGrant(`the authorization code "${code}" is unknown, used or expired`);
    if (entry.clientid !== caller.app.clientid) throw invalidGrant(`the code was issued to client "${entry.clientid}"`);
    if (entry.redirectUri && req.form.get('redirect_uri') !== entry.redirectUri)
      throw invalidGrant(`redirect_uri must be "${entry.redirectUri}", as in the authorization request`);
    if (entry.codeChallenge) {
      const verifier = req.form.get('code_verifier');
      if (!verifier) throw invalidGrant('code_verifier is missing (the authorization request had a code_challenge)');
      const expected = entry.codeChallengeMethod === 'S256' ? await s256(verifier) : verifier;
      if (expected !== entry.codeChallenge) throw invalidGrant('code_verifier does not match the code_challenge');
    }
    this.audience(caller.app, req.form.getAll('resource')); // a refused resource leaves the code usable
    codes.delete(code);
    return this.userTokens(caller, req, this.tenantByZid(entry.zid), this.userByName(entry.user));
  }

  private async refresh(caller: Caller, req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const token = req.form.get('refresh_token');
    if (!token) throw invalidRequest('refresh_token is missing');
    const entry = this.state().identity.refreshTokens.get(token);
    if (!entry) throw invalidGrant('the refresh token is unknown or revoked');
    if (entry.clientid !== caller.app.clientid) throw invalidGrant(`the refresh token was issued to client "${entry.clientid}"`);
    return this.userTokens(caller, req, this.tenantByZid(entry.zid), this.userByName(entry.user));
  }

  /** RFC 8693: a subject token of this identity service for a token of the caller (or the named `resource`). */
  private async tokenExchange(caller: Caller, req: IdentityTokenRequest): Promise<IdentityTokenResponse> {
    const type = req.form.get('subject_token_type');
    if (type && ![TOKEN_TYPES.access_token, TOKEN_TYPES.id_token, TOKEN_TYPES.jwt].includes(type))
      throw invalidRequest(
        `subject_token_type "${type}" is not supported; use ${TOKEN_TYPES.access_token}, ${TOKEN_TYPES.id_token} or ${TOKEN_TYPES.jwt}`,
      );
    const requested = req.form.get('requested_token_type') ?? TOKEN_TYPES.access_token;
    if (![TOKEN_TYPES.access_token, TOKEN_TYPES.id_token, TOKEN_TYPES.jwt].includes(requested))
      throw invalidRequest(
        `requested_token_type "${requested}" is not supported; use ${TOKEN_TYPES.access_token}, ${TOKEN_TYPES.id_token} or ${TOKEN_TYPES.jwt}`,
      );
    const response = await this.assertionGrant(caller, req, req.form.get('subject_token'), 'subject_token');
    if (requested === TOKEN_TYPES.id_token)
      return { access_token: response.id_token!, token_type: 'Bearer', expires_in: response.expires_in, issued_token_type: requested };
    return { ...response, issued_token_type: requested };
  }

  /** jwt-bearer and token exchange: a user token of this identity service, issued to the caller (its `aud`). */
  private async assertionGrant(
    caller: Caller,
    req: IdentityTokenRequest,
    assertion: string | null,
    field: 'assertion' | 'subject_token',
  ): Promise<IdentityTokenResponse> {
    if (!assertion) throw invalidRequest(`${field} is missing`);
    const verified = await this.minter.verify(assertion, { tenants: this.state().tenants });
    if (!verified.ok) throw invalidGrant(`the ${field} is not accepted: ${verified.reason}`);
    const claims = verified.claims;
    if (claims.sap_id_type !== 'user' || !claims.scim_id)
      throw invalidGrant(`the ${field} is not a user token (sap_id_type "${claims.sap_id_type}")`);
    if (![claims.aud].flat().includes(caller.app.clientid))
      throw invalidGrant(`the ${field} was issued for ${[claims.aud].flat().join(', ')}, not for client "${caller.app.clientid}"`);
    const appTid = req.form.get('app_tid');
    const tenant = this.resolveTenant(appTid ?? claims.app_tid, appTid ? null : req.host);
    if (tenant.zid !== claims.app_tid)
      throw invalidGrant(`the ${field} belongs to tenant ${claims.app_tid}, not to app_tid ${tenant.zid} (${tenant.subdomain})`);
    return this.userTokens(caller, req, tenant, this.userFromClaims(claims));
  }

  /** `/oauth2/authorize`: signs in `user` (or the scenario's default user) without a form; returns the redirect. */
  authorize(params: URLSearchParams, host?: string | null): string {
    if (params.get('response_type') !== 'code') throw invalidRequest('response_type must be "code"');
    const clientid = params.get('client_id');
    const app = clientid ? this.application(clientid) : undefined;
    if (!app) throw invalidClient(`unknown client_id "${clientid ?? ''}" (the identity applications: ${this.applicationList()})`);
    const redirectUri = params.get('redirect_uri') ?? app.redirectUris[0];
    if (!redirectUri) throw invalidRequest('redirect_uri is missing');
    if (app.redirectUris.length && !app.redirectUris.some((u) => matchesRedirect(u, redirectUri)))
      throw invalidRequest(
        `redirect_uri "${redirectUri}" is not registered for application "${app.name}" (identity.applications[].redirectUris)`,
      );
    const tenant = this.resolveTenant(params.get('app_tid'), host);
    const userName = params.get('user') ?? this.state().defaultUser;
    if (!userName) throw invalidRequest('no user to sign in: pass ?user=<name> or declare users in the scenario');
    const user = this.userByLogin(userName) ?? completeUser({ name: userName });
    this.assertUserMayUse(user, tenant);
    const code = opaqueToken();
    this.state().identity.authCodes.set(code, {
      clientid: app.clientid,
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

  /** A user token of an identity application (default: the first identity binding), as the handle and the control API issue it. */
  async issueUserToken(opts: { user: string; tenant?: string; clientid?: string; resource?: string[] }): Promise<MintedIasToken> {
    const state = this.state();
    const tenant = opts.tenant ? findTenant(state, { name: opts.tenant }) : state.provider;
    if (!tenant) throw invalidRequest(`tenant "${opts.tenant}" is not a subdomain or zid of this emulator`);
    const first = state.identity.applications[0];
    if (!first) throw invalidRequest('the scenario has no identity binding: add { name: my-ias, service: identity } to bindings');
    const app = opts.clientid ? this.application(opts.clientid) : first;
    if (!app) throw invalidRequest(`client "${opts.clientid}" is not an identity application (known: ${this.applicationList()})`);
    const user = this.userByLogin(opts.user) ?? completeUser({ name: opts.user });
    return this.mint({ clientid: app.clientid, tenant, user, audience: this.audience(app, opts.resource ?? []) });
  }

  private async userTokens(caller: Caller, req: IdentityTokenRequest, tenant: Tenant, user: User): Promise<IdentityTokenResponse> {
    const audience = this.audience(caller.app, req.form.getAll('resource'));
    const minted = await this.mint({ clientid: caller.app.clientid, tenant, user, audience, x5t: caller.x5t });
    const id = await this.mint({ clientid: caller.app.clientid, tenant, user });
    const response: IdentityTokenResponse = {
      access_token: minted.jwt,
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      id_token: id.jwt,
    };
    if (req.form.get('refresh_expiry') !== '0') {
      const refreshToken = opaqueToken();
      this.state().identity.refreshTokens.set(refreshToken, { clientid: caller.app.clientid, zid: tenant.zid, user: user.name });
      response.refresh_token = refreshToken;
    }
    return response;
  }

  private mint(req: Parameters<IdentityTokenMinter['mint']>[0]): Promise<MintedIasToken> {
    const lifetime = this.state().identity.tokenValidity;
    return this.minter.mint(lifetime ? { lifetime, ...req } : req);
  }

  /**
   * `aud` for `resource` parameters: each names a provider application the caller consumes (or the caller itself);
   * none: the caller. An unknown or unconsumed resource is RFC 8707's `invalid_target`.
   */
  private audience(caller: IdentityApplication, resources: string[]): string[] {
    if (!resources.length) return [caller.clientid];
    const apps = this.state().identity.applications;
    return [
      ...new Set(
        resources.map((resource) => {
          if (resource.startsWith(RESOURCE_BY_SERVICE_ID))
            return this.serviceAudience(caller, resource, resource.slice(RESOURCE_BY_SERVICE_ID.length));
          let provider: IdentityApplication | undefined;
          const byId = RESOURCE_BY_CLIENTID.exec(resource);
          if (resource.startsWith(RESOURCE_BY_NAME)) {
            const name = resource.slice(RESOURCE_BY_NAME.length);
            provider = apps.find((a) => a.name === name);
            if (!provider)
              throw invalidTarget(`resource "${resource}": no identity application is named "${name}" (known: ${this.applicationList()})`);
          } else if (byId) {
            provider = apps.find((a) => a.clientid === byId[1]);
            if (!provider)
              throw invalidTarget(
                `resource "${resource}": no identity application has client id "${byId[1]}" (known: ${this.applicationList()})`,
              );
            if (byId[2] && !findTenant(this.state(), { zid: byId[2] }))
              throw invalidTarget(`resource "${resource}": apptid "${byId[2]}" is not a tenant of this emulator`);
          } else {
            throw invalidTarget(
              `resource "${resource}" is not an application this identity service knows; use ${RESOURCE_BY_NAME}<name> or urn:sap:identity:application:provider:clientid:<client id>[:apptid:<tenant>]`,
            );
          }
          if (provider.clientid !== caller.clientid && !caller.consumes.includes(provider.clientid))
            throw invalidTarget(
              `application "${caller.name}" does not consume "${provider.name}": add "${provider.name}" to its consumes (scenario identity.applications)`,
            );
          return provider.clientid;
        }),
      ),
    ];
  }

  /**
   * `aud` for `urn:sap:identity:application:service:id:<instance guid>`: the client of that service instance's
   * binding, which must take IAS tokens (`tokenType` with `ias`) and be one the caller consumes (`consumedServices`).
   */
  private serviceAudience(caller: IdentityApplication, resource: string, guid: string): string {
    const binding = this.state().bindings.find((b) => b.service !== 'identity' && b.instanceid === guid);
    if (!binding)
      throw invalidTarget(
        `resource "${resource}": no service instance of this emulator has instance guid "${guid}" (its binding's instance_guid)`,
      );
    if (!binding.tokenType?.includes('ias'))
      throw invalidTarget(
        `resource "${resource}": service instance "${binding.name}" takes no IAS tokens: give its binding tokenType: [xsuaa, ias]`,
      );
    if (!caller.consumedServices.includes(binding.name))
      throw invalidTarget(
        `application "${caller.name}" does not consume service instance "${binding.name}": add it to its consumedServices (scenario identity.applications)`,
      );
    return binding.clientid;
  }

  private applicationList(): string {
    return (
      this.state()
        .identity.applications.map((a) => `${a.name} (${a.clientid})`)
        .join(', ') || '(none)'
    );
  }

  private userByLogin(login: string): User | undefined {
    const users = this.state().users;
    return users.get(login) ?? [...users.values()].find((u) => u.email === login);
  }

  private userByName(name: string): User {
    return this.state().users.get(name) ?? completeUser({ name });
  }

  private userFromClaims(claims: IasClaims): User {
    const known = [...this.state().users.values()].find((u) => u.userId === claims.scim_id);
    return (
      known ??
      completeUser({
        name: claims.email ?? claims.sub,
        email: claims.email,
        userId: claims.scim_id,
        givenName: claims.given_name,
        familyName: claims.family_name,
        roleCollections: claims.groups,
      })
    );
  }

  private assertUserMayUse(user: User, tenant: Tenant): void {
    if (user.tenants.length && !user.tenants.includes(tenant.subdomain))
      throw new IdentityOAuthError(400, 'invalid_grant', `user "${user.name}" may not sign in to tenant "${tenant.subdomain}"`);
  }

  private tenantByZid(zid: string): Tenant {
    const tenant = findTenant(this.state(), { zid });
    if (!tenant) throw invalidGrant(`tenant ${zid} no longer exists`);
    return tenant;
  }
}

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
