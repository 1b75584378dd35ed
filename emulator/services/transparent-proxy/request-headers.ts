/**
 * What the proxy reads from an app's request headers: which destination a dynamic CR is asked for, what the
 * Destination Service needs to prepare the auth tokens (the user token, refresh token, authorization code,
 * client assertion, token exchange headers), and which headers go on to the target (none of the proxy's own, never
 * the app's `Authorization`).
 */
import { bearerToken } from '../../core/auth-header.ts';
import { hopByHopHeaders } from '../connectivity-proxy/index.ts';
import { badHeader, boundToConcrete, type TransparentProxyError } from './errors.ts';
import {
  destinationLevels,
  dynamicDestinationName,
  dynamicHeaders,
  tpHeaders,
  type DestinationCustomResource,
  type DestinationLevel,
} from './schema.ts';

/** The destination a request asks for: from the CR, or (dynamic CR) from the headers. */
export interface DestinationRef {
  name: string;
  level?: DestinationLevel;
  fragment?: { name: string; level?: DestinationLevel; optional?: boolean };
  chain?: { name: string; variables: [string, string][] };
  dynamic: boolean;
}

const maxDestinationName = 200;
const h = tpHeaders;

function level(headers: Headers, name: string): DestinationLevel | undefined | TransparentProxyError {
  const value = headers.get(name)?.trim();
  if (!value) return undefined;
  if (!(destinationLevels as readonly string[]).includes(value))
    return badHeader(`The header ${displayName(name)} must be one of ${destinationLevels.join(', ')}, not '${value}'`);
  return value as DestinationLevel;
}

function chainVariables(headers: Headers): [string, string][] {
  const vars: [string, string][] = [];
  headers.forEach((value, name) => {
    if (name.startsWith(h.chainVarPrefix)) vars.push([name.slice(h.chainVarPrefix.length), value]);
  });
  return vars;
}

/** The destination of this request through `cr`: the CR's own, or the dynamic headers' (checked). */
export function destinationRefOf(cr: DestinationCustomResource, headers: Headers): DestinationRef | TransparentProxyError {
  const { spec } = cr;
  if (spec.destinationRef.name !== dynamicDestinationName) {
    const sent = [...dynamicHeaders.filter((name) => headers.has(name)), ...(chainVariables(headers).length ? ['X-Chain-Var-*'] : [])];
    if (sent.length)
      return boundToConcrete(`${cr.metadata.namespace}/${cr.metadata.name}`, spec.destinationRef.name, sent.map(displayName));
    return {
      name: spec.destinationRef.name,
      ...(spec.destinationRef.level ? { level: spec.destinationRef.level } : {}),
      ...(spec.fragmentRef ? { fragment: spec.fragmentRef } : {}),
      ...(spec.chainRef ? { chain: { name: spec.chainRef.name, variables: spec.chainRef.variables.map((v) => [v.name, v.value]) } } : {}),
      dynamic: false,
    };
  }
  const name = headers.get(h.destinationName)?.trim();
  if (!name) return badHeader('This endpoint serves any destination: send its name in the header X-Destination-Name');
  if (name.length > maxDestinationName) return badHeader(`The header X-Destination-Name has at most ${maxDestinationName} characters`);
  const destinationLevel = level(headers, h.destinationLevel);
  if (typeof destinationLevel === 'object') return destinationLevel;
  const ref: DestinationRef = { name, dynamic: true, ...(destinationLevel ? { level: destinationLevel } : {}) };
  const fragmentName = headers.get(h.fragmentName)?.trim();
  const fragmentLevel = level(headers, h.fragmentLevel);
  if (typeof fragmentLevel === 'object') return fragmentLevel;
  const optional = headers.get(h.fragmentOptional)?.trim().toLowerCase();
  if (optional !== undefined && optional !== 'true' && optional !== 'false')
    return badHeader(`The header X-Fragment-Optional must be true or false, not '${optional}'`);
  if (!fragmentName && (fragmentLevel || optional !== undefined))
    return badHeader('X-Fragment-Level and X-Fragment-Optional need the header X-Fragment-Name');
  if (fragmentName)
    ref.fragment = {
      name: fragmentName,
      ...(fragmentLevel ? { level: fragmentLevel } : {}),
      ...(optional !== undefined ? { optional: optional === 'true' } : {}),
    };
  const chainName = headers.get(h.chainName)?.trim();
  const variables = chainVariables(headers);
  if (!chainName && variables.length) return badHeader('X-Chain-Var-* headers need the header X-Chain-Name');
  if (chainName) ref.chain = { name: chainName, variables };
  return ref;
}

/** `x-destination-name` → `X-Destination-Name`, for messages. */
const displayName = (lower: string): string => lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

/** A JWT has three base64url parts; refresh tokens and authorization codes are opaque. */
const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

/** The app's bearer token (its user JWT, refresh token or authorization code), if it sent one. */
export const appBearer = (headers: Headers): string | undefined => bearerToken(headers.get('authorization'));

/**
 * The headers the Destination Service gets besides the instance token: the app's bearer token as the user
 * token (a JWT) or as refresh token and authorization code (opaque: the destination's type decides which it
 * reads), and the flow headers as sent. Mixed or half pairs are a 400, before anything is looked up.
 */
export function lookupHeaders(headers: Headers, ref: DestinationRef): Headers | TransparentProxyError {
  const out = new Headers();
  const get = (name: string): string | undefined => headers.get(name)?.trim() || undefined;
  const assertion = get(h.clientAssertion);
  const assertionType = get(h.clientAssertionType);
  const assertionDestination = get(h.clientAssertionDestination);
  if ((assertion || assertionType) && assertionDestination)
    return badHeader('X-Client-Assertion / X-Client-Assertion-Type and X-Client-Assertion-Destination-Name must not be sent together');
  if (Boolean(assertion) !== Boolean(assertionType)) return badHeader('X-Client-Assertion and X-Client-Assertion-Type are sent together');
  if (Boolean(get(h.actorToken)) !== Boolean(get(h.actorTokenType)))
    return badHeader('X-Actor-Token and X-Actor-Token-Type are sent together');

  const bearer = appBearer(headers);
  const tokenServiceTenant = get(h.tokenServiceTenant);
  if (bearer) {
    if (looksLikeJwt(bearer) && !tokenServiceTenant) out.set('x-user-token', bearer);
    if (!looksLikeJwt(bearer)) {
      out.set('x-refresh-token', bearer);
      out.set('x-code', bearer);
    }
    out.set('x-subject-token', bearer);
  }
  if (tokenServiceTenant) out.set('x-tenant', tokenServiceTenant);
  for (const name of [
    h.redirectUri,
    h.codeVerifier,
    h.clientAssertion,
    h.clientAssertionType,
    h.clientAssertionDestination,
    h.subjectTokenType,
    h.actorToken,
    h.actorTokenType,
  ]) {
    const value = get(name);
    if (value) out.set(name, value);
  }
  // The predefined chains take the user from a variable; without one, the app's token is the user.
  if (ref.chain && bearer && looksLikeJwt(bearer)) {
    const names = new Set(ref.chain.variables.map(([name]) => name.toLowerCase()));
    const extra: [string, string][] = [];
    if (!names.has('usertoken')) extra.push(['userToken', bearer]);
    if (!names.has('subjecttoken')) extra.push(['subjectToken', bearer]);
    if (!names.has('subjecttokentype')) extra.push(['subjectTokenType', 'urn:ietf:params:oauth:token-type:jwt']);
    ref.chain = { ...ref.chain, variables: [...ref.chain.variables, ...extra] };
  }
  return out;
}

/** The proxy's own headers (the request id goes on: it is the app's trace), the app's Authorization, Host. */
const ownHeaders = new Set<string>([...Object.values(tpHeaders).filter((name) => name !== tpHeaders.requestId), 'authorization', 'host']);

/** A request header (lower case) that stays with the proxy: its own, the app's Authorization, hop-by-hop, Proxy-*, SAP-Connectivity-*. */
export function isProxyHeader(lower: string): boolean {
  return (
    ownHeaders.has(lower) ||
    hopByHopHeaders.has(lower) ||
    lower.startsWith(tpHeaders.chainVarPrefix) ||
    lower.startsWith('proxy-') ||
    lower.startsWith('sap-connectivity-') ||
    lower.startsWith('sap-cp-connectivity-')
  );
}

/** The app's headers that go on to the target. */
export function targetHeaders(headers: Headers): Headers {
  const out = new Headers();
  headers.forEach((value, name) => {
    if (!isProxyHeader(name)) out.append(name, value);
  });
  return out;
}
