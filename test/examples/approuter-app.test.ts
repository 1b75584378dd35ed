/**
 * examples/approuter-app: `@sap/approuter` as its own process, configured only by its `xs-app.json` and the
 * `default-env.json` its script writes from the emulator. A user token from the emulator gets through the
 * xsuaa route and is forwarded to the backend destination; without one, the approuter refuses.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../emulator/index.ts';
import type { EchoBody } from '../../emulator/server/backend/http-backend.ts';
import { extraCaCertsEnv, userToken } from '../../sdk-adapters/index.ts';
import { writeApprouterDefaultEnv } from '../../examples/approuter-app/write-default-env.ts';
import { startAppProcess, type AppProcess } from './app-process.ts';
import { expiredUserToken } from '../refused-tokens.ts';

const appDir = fileURLToPath(new URL('../../examples/approuter-app/', import.meta.url));
const approuterMain = createRequire(import.meta.url).resolve('@sap/approuter/approuter.js');
let emu: EmulatorHandle;
let app: AppProcess;
let base: string;
let workDir: string;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: { name: 'approuter-app', tenants: [{ subdomain: 'provider' }], users: [{ name: 'alice', scopes: ['Display'] }] },
  });
  // The app's own files in a scratch working directory, so the test never writes into the source tree.
  workDir = mkdtempSync(join(tmpdir(), 'approuter-app-'));
  copyFileSync(join(appDir, 'xs-app.json'), join(workDir, 'xs-app.json'));
  writeApprouterDefaultEnv(emu, { dir: workDir, backendUrl: emu.urls.backend });
  const env: Record<string, string | undefined> = { ...process.env, ...extraCaCertsEnv(emu), PORT: '0' };
  delete env.VCAP_SERVICES; // the bindings must come from default-env.json
  delete env.destinations;
  app = await startAppProcess([approuterMain], { cwd: workDir, env, ready: /listening on port: (\d+)/ });
  base = `http://127.0.0.1:${app.ready[1]}`;
});

afterAll(async () => {
  await app?.stop();
  await emu?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('examples/approuter-app', () => {
  it('forwards the user token of an emulator user to the backend destination', async () => {
    const jwt = await userToken(emu, 'alice');
    const res = await fetch(`${base}/backend/orders?top=1`, { headers: { 'x-approuter-authorization': `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as EchoBody;
    expect(echo.path).toBe('/orders');
    expect(echo.query).toEqual({ top: '1' });
    expect(String(echo.headers.authorization)).toBe(`Bearer ${jwt}`);
    expect(decodeJwt(jwt).user_name).toBe('alice');
  });

  it('refuses the xsuaa route without a token, and passes the public route without one', async () => {
    const refused = await fetch(`${base}/backend/orders`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(refused.status).toBe(401);
    const open = (await (await fetch(`${base}/public/status`)).json()) as EchoBody;
    expect(open.path).toBe('/status');
    expect(open.headers.authorization).toBeUndefined();
  });

  it('refuses a token whose signature the emulator keys do not verify', async () => {
    const jwt = await userToken(emu, 'alice');
    const forged = `${jwt.split('.').slice(0, 2).join('.')}.${'B'.repeat(86)}`;
    const res = await fetch(`${base}/backend/orders`, { headers: { 'x-approuter-authorization': `Bearer ${forged}` } });
    expect(res.status).toBe(401);
  });

  it('refuses a token the emulator issued and now refuses itself (expired on the emulator clock)', async () => {
    const expired = await expiredUserToken(emu, 'alice');
    const res = await fetch(`${base}/backend/orders`, { headers: { 'x-approuter-authorization': `Bearer ${expired}` } });
    expect(res.status).toBe(401);
  });
});
