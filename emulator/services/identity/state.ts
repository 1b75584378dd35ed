import type { Binding, SubaccountState } from '../../core/subaccount.ts';
import type { IdentityScenario } from './schema.ts';

/** An IAS application: one identity binding, its name for `resource`, the provider applications it consumes. */
export interface IdentityApplication {
  name: string;
  clientid: string;
  clientsecret: string;
  binding: Binding;
  /** Client ids of the provider applications it may request tokens for (`resource`). */
  consumes: string[];
  redirectUris: string[];
  /** Names of the service instances (bindings) it consumes: a destination instance here accepts its tokens. */
  consumedServices: string[];
}

export interface IdentityRefreshToken {
  clientid: string;
  zid: string;
  user: string;
}

export interface IdentityAuthCode extends IdentityRefreshToken {
  redirectUri?: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  expiresAt: number;
}

/** The identity service's state: its applications (from the scenario) and the refresh tokens and codes it handed out. */
export interface IdentityState {
  identity: {
    applications: IdentityApplication[];
    refreshTokens: Map<string, IdentityRefreshToken>;
    authCodes: Map<string, IdentityAuthCode>;
    /** Access token lifetime in seconds (the scenario's `tokenValidity`); default one hour. */
    tokenValidity?: number;
  };
}

/** What the identity service reads: the subaccount (tenants, users, bindings) and its own part. */
export type IdentityView = SubaccountState & IdentityState;

/** The applications of the identity bindings; `consumes` (names or client ids) resolved to client ids. */
export function buildIdentityState(part: IdentityScenario, bindings: Binding[], tokenValidity?: number): IdentityState {
  const applications = bindings
    .filter((b) => b.service === 'identity')
    .map((b): IdentityApplication => {
      const declared = part.applications.find((a) => a.binding === b.name);
      return {
        name: declared?.name ?? b.name,
        clientid: b.clientid,
        clientsecret: b.clientsecret,
        binding: b,
        consumes: declared?.consumes ?? [],
        redirectUris: declared?.redirectUris ?? [],
        consumedServices: declared?.consumedServices ?? [],
      };
    });
  for (const app of applications) {
    app.consumes = app.consumes.map((c) => applications.find((a) => a.name === c || a.clientid === c)?.clientid ?? c);
  }
  return { identity: { applications, refreshTokens: new Map(), authCodes: new Map(), ...(tokenValidity ? { tokenValidity } : {}) } };
}
