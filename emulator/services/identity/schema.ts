/**
 * The identity service's (SAP Cloud Identity Services, IAS) part of the scenario: its applications. Every identity
 * binding is an IAS application; `identity.applications` names it for app-to-app `resource` requests and says
 * which provider applications it consumes. Also the OIDC discovery document.
 */
import { z } from 'zod';

export const identityApplicationSchema = z.strictObject({
  /** The identity binding (scenario `bindings`, `service: identity`) this application is. */
  binding: z.string().min(1, 'binding must name an identity binding'),
  /** Its name in `resource=urn:sap:identity:application:provider:name:<name>`; default: the binding's name. */
  name: z.string().min(1).optional(),
  /** Provider applications (their names or client ids) this one may request tokens for with `resource`. */
  consumes: z.array(z.string().min(1)).default([]),
  /** Redirect URIs `/oauth2/authorize` accepts (`*` matches anything); empty = any. */
  redirectUris: z.array(z.string().min(1)).default([]),
  /**
   * Service instances this application consumes (IAS `consumed-services`, by `service-instance-name`): a destination
   * binding named here accepts the application's tokens on the Destination Service REST API, over mTLS; a
   * connectivity binding with `tokenType: [xsuaa, ias]` lets it request proxy tokens (`…:service:id:<instance guid>`).
   */
  consumedServices: z.array(z.string().min(1)).default([]),
});

export const identitySchema = z
  .strictObject({
    applications: z.array(identityApplicationSchema).default([]),
  })
  .default({ applications: [] });

export type IdentityScenario = z.output<typeof identitySchema>;

/**
 * Cross-checks against the scenario's bindings: every application names an identity binding (once), and what it
 * consumes names an application. `issue(i, path, message)` reports against `identity.applications[i]`.
 */
export function checkIdentityReferences(
  part: IdentityScenario,
  bindings: { name: string; service: string; clientid?: string }[],
  issue: (i: number, path: (string | number)[], message: string) => void,
): void {
  const identityBindings = bindings.filter((b) => b.service === 'identity');
  const names = new Set<string>(identityBindings.map((b) => b.name));
  const seen = new Set<string>();
  part.applications.forEach((app, i) => {
    if (!names.has(app.binding))
      issue(
        i,
        ['binding'],
        `no identity binding named "${app.binding}"; the identity bindings are ${[...names].join(', ') || '(none: add { name, service: identity } to bindings)'}`,
      );
    if (seen.has(app.binding)) issue(i, ['binding'], `binding "${app.binding}" has two applications`);
    seen.add(app.binding);
  });
  const consumable = bindings.filter((b) => b.service === 'destination' || b.service === 'connectivity').map((b) => b.name);
  part.applications.forEach((app, i) =>
    app.consumedServices.forEach((name, j) => {
      if (!consumable.includes(name))
        issue(
          i,
          ['consumedServices', j],
          `"${name}" is not a destination or connectivity binding of this scenario (those bindings: ${consumable.join(', ') || '(none)'})`,
        );
    }),
  );
  const known = new Set<string>();
  for (const b of identityBindings) {
    const app = part.applications.find((a) => a.binding === b.name);
    known.add(app?.name ?? b.name);
    if (b.clientid) known.add(b.clientid);
  }
  part.applications.forEach((app, i) =>
    app.consumes.forEach((c, j) => {
      if (!known.has(c))
        issue(i, ['consumes', j], `"${c}" is not an identity application of this scenario (known: ${[...known].join(', ')})`);
    }),
  );
}

/** The grants the identity service's token endpoint serves. */
export const identityGrantTypes = [
  'client_credentials',
  'password',
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

/** The OpenID discovery document of the IAS tenant at `origin` (what xssec's IdentityService reads first). */
export function openIdConfiguration(origin: string): Record<string, unknown> {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth2/authorize`,
    token_endpoint: `${origin}/oauth2/token`,
    jwks_uri: `${origin}/oauth2/certs`,
    response_types_supported: ['code', 'id_token', 'token'],
    grant_types_supported: [...identityGrantTypes],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'tls_client_auth'],
    tls_client_certificate_bound_access_tokens: true,
    scopes_supported: ['openid', 'email', 'profile', 'groups'],
    claims_supported: [
      'iss',
      'ias_iss',
      'sub',
      'aud',
      'azp',
      'exp',
      'iat',
      'jti',
      'app_tid',
      'scim_id',
      'user_uuid',
      'sap_id_type',
      'email',
      'given_name',
      'family_name',
      'groups',
      'cnf',
    ],
    code_challenge_methods_supported: ['S256', 'plain'],
  };
}
