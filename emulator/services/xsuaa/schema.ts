/** XSUAA's part of the scenario: its OAuth clients, its users and the access tokens' lifetime. */
import { z } from 'zod';
import { durationText, maxDurationMs } from '../../core/time-bounds.ts';

/** An access token lifetime in seconds: positive, at most 100 years (so `exp` stays a date). */
export const tokenValiditySeconds = z
  .number({ error: 'tokenValidity must be a number of seconds' })
  .int('tokenValidity must be a whole number of seconds')
  .positive('tokenValidity must be positive')
  .max(maxDurationMs / 1000, `tokenValidity must be ${durationText}`)
  .optional();

export const clientSchema = z.strictObject({
  clientid: z.string().min(1),
  clientsecret: z.string().min(1),
  xsappname: z.string().min(1).optional(),
  /** Scopes a client_credentials token of this client carries. */
  authorities: z.array(z.string()).default([]),
  redirectUris: z.array(z.string()).default([]),
  /** Lifetime of this client's access tokens in seconds (xs-security.json `token-validity`); default: the scenario's. */
  tokenValidity: tokenValiditySeconds,
});

export const userSchema = z.strictObject({
  name: z.string().min(1),
  password: z.string().optional(),
  email: z.string().optional(),
  givenName: z.string().optional(),
  familyName: z.string().optional(),
  userId: z.string().optional(),
  origin: z.string().default('sap.default'),
  /** Scopes; a name without a dot (`Display`) is prefixed with the requesting app's xsappname. */
  scopes: z.array(z.string()).default([]),
  attributes: z.record(z.string(), z.array(z.string())).default({}),
  roleCollections: z.array(z.string()).default([]),
  /** Subdomains the user may sign in to; empty = every tenant. */
  tenants: z.array(z.string()).default([]),
});

/** The OpenID discovery document of the XSUAA at `origin`: endpoints, grants, claims, as UAA publishes it. */
export function openIdConfiguration(origin: string): Record<string, unknown> {
  return {
    issuer: `${origin}/oauth/token`,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    userinfo_endpoint: `${origin}/userinfo`,
    jwks_uri: `${origin}/token_keys`,
    scopes_supported: ['openid'],
    response_types_supported: ['code', 'code id_token', 'id_token', 'token id_token'],
    grant_types_supported: [
      'client_credentials',
      'password',
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:saml2-bearer',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: [
      'sub',
      'user_name',
      'origin',
      'iss',
      'auth_time',
      'amr',
      'acr',
      'client_id',
      'aud',
      'zid',
      'grant_type',
      'user_id',
      'azp',
      'scope',
      'exp',
      'iat',
      'jti',
      'rev_sig',
      'cid',
      'given_name',
      'family_name',
      'phone_number',
      'email',
    ],
    claims_parameter_supported: false,
    code_challenge_methods_supported: ['S256', 'plain'],
  };
}
