/**
 * The MSW face in a real browser: Vite builds the page in test/fixtures/msw-page (the emulator core bundled
 * for the browser, no Node built-ins), a static server serves it with MSW's worker script, and a real
 * Chromium (test/browser.ts: the system's or the npm package's, driven by playwright-core) opens it. The page's relative fetch calls must come back with the
 * backend stub's answer, reached through its xs-app.json route and destination.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.ts';

const pageDir = fileURLToPath(new URL('./fixtures/msw-page/', import.meta.url));
const workerScript = fileURLToPath(new URL('../node_modules/msw/lib/mockServiceWorker.js', import.meta.url));
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css',
  '.json': 'application/json',
};

let outDir: string;
let server: Server;
let baseUrl: string;
let browser: Browser | undefined;

function serveStatic(root: string): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = path === '/mockServiceWorker.js' ? workerScript : join(root, normalize(path === '/' ? '/index.html' : path));
    if (!file.startsWith(root) && file !== workerScript) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (content) =>
        res
          .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
          .end(content),
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`),
    );
  });
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'msw-page-'));
  await build({ root: pageDir, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 2048 } });
  server = serveStatic(outDir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('MSW face in Chromium: page → xs-app.json route → destination → backend stub', () => {
  it('the built bundle contains the core, not a Node built-in', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    const script = /src="\/?(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const code = await readFile(join(outDir, script!), 'utf8');
    expect(code).toContain('/destination-configuration/v1/destinations');
    expect(code).not.toMatch(/from\s*["']node:/);
  });

  it("the page's fetch calls are answered through the approuter face by the emulator in the browser", async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${baseUrl}/`);
    const failed = page
      .waitForSelector('#error:not(:empty)', { timeout: 30_000 })
      .then(async () => `page error: ${await page.textContent('#error')}`);
    const done = page.waitForSelector('#me[data-done]', { timeout: 30_000 }).then(() => 'done');
    expect(await Promise.race([done, failed])).toBe('done');
    expect(errors).toEqual([]);

    const orders = JSON.parse((await page.textContent('#orders'))!) as { status: number; body: unknown };
    expect(orders).toEqual({ status: 200, body: { d: { results: [{ OrderID: '4711', Item: 'pencil' }] } } });

    const me = JSON.parse((await page.textContent('#me'))!) as { status: number; body: { path: string; headers: Record<string, string> } };
    expect(me.status).toBe(200);
    expect(me.body.path).toBe('/user/profile');
    const claims = decodeJwt(me.body.headers.authorization.replace(/^Bearer /, ''));
    expect(claims.user_name).toBe('alice');
    expect(claims.grant_type).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');

    const controlled = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
    expect(controlled).toBe(`${baseUrl}/mockServiceWorker.js`);
    await page.close();
  });
});
