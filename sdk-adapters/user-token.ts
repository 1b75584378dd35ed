/**
 * A user token (XSUAA JWT of the app's xsuaa client) for a named user of the scenario: from a handle in this
 * process, or from the control API (`POST /_emulator/users/token`) of an emulator running elsewhere — e.g. the
 * one a vitest global setup started in the main process.
 */

export interface UserTokenOptions {
  /** Subdomain or zid; default the provider tenant. */
  tenant?: string;
  /** Replaces the user's scopes from the scenario. */
  scopes?: string[];
}

/** Something that can issue user tokens: a `startEmulator()` handle, or a control API base URL. */
export type TokenIssuer =
  { issueUserToken(opts: { user: string } & UserTokenOptions): Promise<string> } | { controlUrl: string; controlToken?: string };

export async function userToken(from: TokenIssuer, user: string, options: UserTokenOptions = {}): Promise<string> {
  if ('issueUserToken' in from) return from.issueUserToken({ user, ...options });
  const res = await fetch(`${from.controlUrl.replace(/\/$/, '')}/users/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(from.controlToken ? { authorization: `Bearer ${from.controlToken}` } : {}) },
    body: JSON.stringify({ user, ...options }),
  });
  if (!res.ok) throw new Error(`user token for "${user}": ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
