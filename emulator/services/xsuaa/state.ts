import type { SubaccountState } from '../../core/subaccount.ts';
import type { SamlState } from '../saml/index.ts';

/** XSUAA's own state: the opaque refresh tokens and authorization codes it handed out. */
export interface XsuaaState {
  refreshTokens: Map<string, { clientid: string; zid: string; user: string; scopes?: string[] }>;
  authCodes: Map<
    string,
    {
      clientid: string;
      zid: string;
      user: string;
      redirectUri?: string;
      codeChallenge?: string;
      codeChallengeMethod?: string;
      expiresAt: number;
    }
  >;
}

/** What XSUAA reads: the subaccount, its own part and the SAML trust (the saml2-bearer grant checks assertions against it). */
export type XsuaaView = SubaccountState & XsuaaState & SamlState;
