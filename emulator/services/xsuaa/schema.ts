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
