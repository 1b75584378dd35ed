/** Helpers for the persistence and snapshot tests: JSON calls against a running emulator's services port. */
import { postForm } from './helpers.ts';

export interface Answer {
  status: number;
  body: unknown;
}

/** One JSON call; the body of the answer parsed when it is JSON. */
export async function call(base: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** A client-credentials token of the destination binding, for a tenant (by zid) or the provider. */
export async function destinationToken(base: string, vcapServices: string, zid?: string): Promise<string> {
  const creds = (JSON.parse(vcapServices) as Record<string, { credentials: Record<string, string> }[]>).destination[0].credentials;
  const res = await postForm(
    `${base}/oauth/token`,
    { grant_type: 'client_credentials', client_id: creds.clientid, client_secret: creds.clientsecret },
    zid ? { 'x-zid': zid } : {},
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export const httpDestination = (name: string, url = `https://${name.toLowerCase()}.example.com`): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: url,
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
});

export const dest = '/destination-configuration/v1';
