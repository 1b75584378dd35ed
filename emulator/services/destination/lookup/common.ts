/**
 * What the find API (v1, lookup.ts) and the consume API (v2, consume.ts) share: their options and answer, what
 * they need from the rest of the gateway, and the answer to `If-None-Match`/`If-Match`.
 */
import type { ServiceResult } from '../../../core/service-result.ts';
import type { DestinationAuthTokens, AuthToken } from '../auth-tokens/auth-tokens.ts';
import type { DestinationCertificates } from '../certificates/keystores.ts';
import type { DestinationProps } from '../schema.ts';
import type { DestinationView } from '../state.ts';
import type { Caller } from './caller.ts';

export interface FindOptions {
  skipTokenRetrieval?: boolean;
  skipCredentials?: boolean;
  headers: Headers;
}

export interface FindResponseBody {
  owner: { SubaccountId: string; InstanceId: string | null };
  destinationConfiguration: DestinationProps;
  authTokens?: AuthToken[];
  certificates?: { Name: string; Content: string; Type: string }[];
}

/** The v1 find API, as the destination chains call it for each step. */
export type Find = (caller: Caller, name: string, options: FindOptions) => Promise<ServiceResult>;

/** What a lookup needs: the state, the `{{placeholder}}` values, the keystores of a destination and its authTokens. */
export interface LookupDeps {
  state: () => DestinationView;
  placeholders: () => Record<string, string>;
  certificates: DestinationCertificates;
  authTokens: DestinationAuthTokens;
}

/** `If-None-Match` → 304, `If-Match` mismatch → 412 (both carry the ETag). */
export function conditional(headers: Headers, etag: string): ServiceResult | undefined {
  const unquote = (v: string): string => v.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
  const noneMatch = headers.get('if-none-match');
  if (noneMatch && noneMatch.split(',').some((v) => unquote(v) === etag || v.trim() === '*'))
    return { status: 304, headers: { ETag: etag } };
  const match = headers.get('if-match');
  if (match && !match.split(',').some((v) => unquote(v) === etag || v.trim() === '*')) {
    return { status: 412, body: { ErrorMessage: 'The ETag in If-Match does not match the current version' }, headers: { ETag: etag } };
  }
  return undefined;
}
