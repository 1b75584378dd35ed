/**
 * `npm test` of this example: `@sap/approuter` as its own process, configured only by `xs-app.json` and the
 * `default-env.json` that `write-default-env.ts` writes from an emulator (both in a scratch directory). A user
 * token from the emulator passes the xsuaa route and reaches the backend; without one the approuter refuses.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from 'btp-connectivity-emulator';
import { extraCaCertsEnv, userToken } from 'btp-connectivity-emulator/sdk-adapters';
import { writeApprouterDefaultEnv } from './write-default-env.ts';

let emulator: EmulatorHandle;
let app: ChildProcess;
let base: string;
let workDir: string;

before(async () => {
  emulator = await startEmulator({
    port: 0,
    scenario: { name: 'approuter-app', tenants: [{ subdomain: 'provider' }], users: [{ name: 'alice', scopes: ['Display'] }] },
  });
  workDir = mkdtempSync(join(tmpdir(), 'approuter-app-'));
  copyFileSync(fileURLToPath(new URL('xs-app.json', import.meta.url)), join(workDir, 'xs-app.json'));
  writeApprouterDefaultEnv(emulator, { dir: workDir, backendUrl: emulator.urls.backend });
  const env: Record<string, string | undefined> = { ...process.env, ...extraCaCertsEnv(emulator), PORT: '0' };
  delete env.VCAP_SERVICES; // the bindings come from default-env.json
  delete env.destinations;
  const approuter = createRequire(import.meta.url).resolve('@sap/approuter/approuter.js');
  app = spawn(process.execPath, [approuter], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise<string>((resolve, reject) => {
    let output = '';
    app.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on port: (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    app.once('exit', (code) => reject(new Error(`the approuter exited with ${code}:\n${output}`)));
  });
});

after(async () => {
  app?.kill('SIGTERM');
  await emulator?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('forwards the user token of an emulator user to the backend destination', async () => {
  const jwt = await userToken(emulator, 'alice');
  const res = await fetch(`${base}/backend/orders?top=1`, { headers: { 'x-approuter-authorization': `Bearer ${jwt}` } });
  assert.equal(res.status, 200);
  const echo = (await res.json()) as { path: string; headers: Record<string, unknown> };
  assert.equal(echo.path, '/orders');
  assert.equal(echo.headers.authorization, `Bearer ${jwt}`);
});

test('refuses the xsuaa route without a token', async () => {
  const res = await fetch(`${base}/backend/orders`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
  assert.equal(res.status, 401);
});
