/**
 * authTokens of the SAML family. `SAMLAssertion`: the signed assertion itself (`SAML2.0 <base64>`).
 * `OAuth2SAMLBearerAssertion`: the assertion (generated, or the caller's `X-samlAssertion` with
 * `SAMLAssertionProvider=ClientProvided`) exchanged for an access token with the saml2-bearer grant.
 * The user comes from the user token (`X-user-token`, else a user token in `Authorization`), or `SystemUser`.
 */
import { type DestinationProps } from '../schema.ts';
import { decodeJwtPayload } from '../../../core/jwt.ts';
import { failedToken, isCommon, userToken, type AuthToken, type TokenContext } from './common.ts';
import { oauthToken } from './oauth.ts';
import { buildSignedAssertion, encodeAssertion, SamlAssertionError } from '../../saml/index.ts';

export const SAML2_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

type Outcome = { ok: true; assertion: string; claims?: Record<string, unknown> } | { ok: false; tokens: AuthToken[] };

async function userClaims(
  type: string,
  cfg: DestinationProps,
  ctx: TokenContext,
): Promise<{ ok: true; claims?: Record<string, unknown> } | { ok: false; tokens: AuthToken[] }> {
  if (cfg.SystemUser && type === 'OAuth2SAMLBearerAssertion') return { ok: true };
  const jwt = userToken(ctx);
  if (!jwt)
    return {
      ok: false,
      tokens: [
        failedToken(
          `${type} needs a user token: send it in X-user-token or as the Authorization bearer token${type === 'OAuth2SAMLBearerAssertion' ? ' (or set SystemUser)' : ''}`,
        ),
      ],
    };
  if (!ctx.verifyUserToken) return { ok: true, claims: decodeJwtPayload(jwt) };
  const verified = await ctx.verifyUserToken(jwt);
  if (!verified.ok) return { ok: false, tokens: [failedToken(`The user token is not accepted: ${verified.reason}`)] };
  return { ok: true, claims: verified.claims };
}

async function assertionFor(type: string, cfg: DestinationProps, ctx: TokenContext): Promise<Outcome> {
  const user = await userClaims(type, cfg, ctx);
  if (!user.ok) return user;
  if (!ctx.samlSigning) return { ok: false, tokens: [failedToken('SAML assertions cannot be signed: no trust certificate is available')] };
  try {
    const { keys, issuer } = await ctx.samlSigning();
    const xml = await buildSignedAssertion({ cfg, claims: user.claims, issuer, now: (ctx.now ?? Date.now)(), keys });
    const defaultEncoding = type === 'SAMLAssertion' ? 'base64' : 'base64url';
    const encoding = (cfg.samlAssertionEncoding ?? defaultEncoding).toLowerCase() === 'base64' ? 'base64' : 'base64url';
    return { ok: true, assertion: encodeAssertion(xml, encoding), claims: user.claims };
  } catch (err) {
    if (err instanceof SamlAssertionError) return { ok: false, tokens: [failedToken(`SAML assertion could not be built: ${err.message}`)] };
    throw err;
  }
}

function subdomainOf(claims: Record<string, unknown> | undefined): string | undefined {
  return (claims?.ext_attr as { zdn?: string } | undefined)?.zdn;
}

export async function retrieveSamlTokens(
  type: 'SAMLAssertion' | 'OAuth2SAMLBearerAssertion',
  cfg: DestinationProps,
  ctx: TokenContext,
): Promise<AuthToken[]> {
  if (type === 'SAMLAssertion') {
    const outcome = await assertionFor(type, cfg, ctx);
    if (!outcome.ok) return outcome.tokens;
    return [{ type: 'SAML2.0', value: outcome.assertion, http_header: { key: 'Authorization', value: `SAML2.0 ${outcome.assertion}` } }];
  }

  let assertion: string;
  let claims: Record<string, unknown> | undefined;
  if ((cfg.SAMLAssertionProvider ?? '').toLowerCase() === 'clientprovided') {
    const provided = ctx.headers.get('x-samlassertion')?.trim();
    if (!provided)
      return [
        failedToken(
          'OAuth2SAMLBearerAssertion with SAMLAssertionProvider=ClientProvided needs the X-samlAssertion header, which the request did not send (or sent empty)',
        ),
      ];
    assertion = provided;
  } else {
    const outcome = await assertionFor(type, cfg, ctx);
    if (!outcome.ok) return outcome.tokens;
    ({ assertion, claims } = outcome);
  }
  const grant: Record<string, string> = { grant_type: SAML2_BEARER_GRANT, assertion };
  if (cfg.clientKey) grant.client_id = cfg.clientKey;
  if (cfg.companyId) grant.company_id = cfg.companyId;
  const tenant = isCommon(cfg) ? (subdomainOf(claims) ?? ctx.caller.tenant.subdomain) : undefined;
  return oauthToken(cfg, grant, tenant, ctx);
}
