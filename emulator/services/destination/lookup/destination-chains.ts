/**
 * The predefined destination chains of the v1 find API (`X-chain-name`, variables in `X-chain-var-*`):
 * `com.sap.iasGeneratedOAuth2SamlBearerAssertion` — step 1 exchanges the subject token for a SAML assertion
 * through an OAuth2TokenExchange destination, step 2 looks up the requested destination with it as the
 * client-provided assertion (`X-samlAssertion`); `com.sap.sequentialUserPropagation` — step 1 exchanges the
 * user token through a transformation destination, step 2 uses the new token as the user (`X-user-token`).
 * Unknown chains and missing variables are a 400 naming them; a failed step 1 is an authTokens error element.
 */
import type { ServiceResult } from '../../../core/service-result.ts';
import { failedToken, type AuthToken } from '../auth-tokens/common.ts';
import type { Caller } from './caller.ts';
import type { Find, FindOptions, FindResponseBody } from './common.ts';
import { DestinationError } from '../errors.ts';

export const IAS_SAML_CHAIN = 'com.sap.iasGeneratedOAuth2SamlBearerAssertion';
export const SEQUENTIAL_USER_CHAIN = 'com.sap.sequentialUserPropagation';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

interface Step {
  destinationVar: string;
  fragmentVar: string;
  fragmentOptionalVar: string;
  requiredType?: string;
  /** Headers of the step-1 lookup. */
  stepHeaders: (variable: (name: string) => string) => Record<string, string>;
  /** Headers step 2 adds, given the token step 1 returned. */
  handOver: (token: AuthToken) => Record<string, string>;
  required: string[];
}

const chains: Record<string, Step> = {
  [IAS_SAML_CHAIN]: {
    destinationVar: 'samlProviderDestinationName',
    fragmentVar: 'samlProviderFragmentName',
    fragmentOptionalVar: 'samlProviderFragmentOptional',
    requiredType: 'OAuth2TokenExchange',
    required: ['samlProviderDestinationName', 'subjectToken', 'subjectTokenType'],
    stepHeaders: (v) => ({ 'x-subject-token': v('subjectToken'), 'x-subject-token-type': v('subjectTokenType') }),
    handOver: (token) => ({ 'x-samlassertion': token.value }),
  },
  [SEQUENTIAL_USER_CHAIN]: {
    destinationVar: 'tokenTransformationDestinationName',
    fragmentVar: 'tokenTransformationFragmentName',
    fragmentOptionalVar: 'tokenTransformationFragmentOptional',
    required: ['tokenTransformationDestinationName', 'userToken'],
    stepHeaders: (v) => ({ 'x-user-token': v('userToken'), 'x-subject-token': v('userToken'), 'x-subject-token-type': JWT_TOKEN_TYPE }),
    handOver: (token) => ({ 'x-user-token': token.value }),
  },
};

/** Runs the chain `X-chain-name` names; `find` is the v1 find API, called for each step. */
export async function runChain(find: Find, caller: Caller, name: string, options: FindOptions): Promise<ServiceResult> {
  const chainName = options.headers.get('x-chain-name')?.trim() ?? '';
  const step = chains[chainName];
  if (!step)
    throw new DestinationError(
      400,
      `X-chain-name "${chainName}" is not a predefined destination chain; known chains: ${Object.keys(chains).join(', ')}`,
    );
  const variable = (v: string): string => options.headers.get(`x-chain-var-${v}`)?.trim() ?? '';
  const missing = step.required.filter((v) => !variable(v));
  if (missing.length)
    throw new DestinationError(400, `Destination chain "${chainName}" needs ${missing.map((v) => `X-chain-var-${v}`).join(', ')}`);

  const providerName = variable(step.destinationVar);
  const stepHeaders = new Headers(step.stepHeaders(variable));
  if (variable(step.fragmentVar)) stepHeaders.set('x-fragment-name', variable(step.fragmentVar));
  if (variable(step.fragmentOptionalVar)) stepHeaders.set('x-fragment-optional', variable(step.fragmentOptionalVar));
  let first: ServiceResult;
  try {
    first = await find(caller, providerName, { headers: stepHeaders });
  } catch (err) {
    if (err instanceof DestinationError && err.status === 404) {
      throw new DestinationError(
        400,
        `Destination chain "${chainName}": X-chain-var-${step.destinationVar} "${providerName}": ${err.message}`,
      );
    }
    throw err;
  }
  const firstBody = first.body as FindResponseBody;
  const providerType = firstBody.destinationConfiguration.Authentication;
  if (step.requiredType && providerType !== step.requiredType) {
    throw new DestinationError(
      400,
      `Destination chain "${chainName}": X-chain-var-${step.destinationVar} "${providerName}" must use ${step.requiredType}, not ${providerType ?? 'NoAuthentication'}`,
    );
  }
  const token = firstBody.authTokens?.find((t) => !t.error);

  const finalHeaders = new Headers(options.headers);
  for (const key of [...finalHeaders.keys()]) if (key.startsWith('x-chain-')) finalHeaders.delete(key);
  if (!token) {
    const reason = firstBody.authTokens?.map((t) => t.error).join('; ') || `destination "${providerName}" returned no token`;
    const result = await find(caller, name, { ...options, headers: finalHeaders, skipTokenRetrieval: true });
    if (result.status === 200)
      (result.body as FindResponseBody).authTokens = [failedToken(`Destination chain "${chainName}" step 1 failed: ${reason}`)];
    return result;
  }
  for (const [key, value] of Object.entries(step.handOver(token))) finalHeaders.set(key, value);
  return find(caller, name, { ...options, headers: finalHeaders });
}
