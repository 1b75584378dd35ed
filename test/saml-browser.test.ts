/**
 * SAML in a real browser: Vite bundles test/fixtures/saml-page (the emulator core, no Node built-ins) and
 * Chromium runs it. The page signs assertions for a SAMLAssertion and an OAuth2SAMLBearerAssertion destination
 * and has the core's XSUAA verify one for the saml2-bearer grant — the SAML code is browser-safe.
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

const pageDir = fileURLToPath(new URL('./fixtures/saml-page/', import.meta.url));
const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

let outDir: string;
let server: Server;
let baseUrl: string;
let browser: Browser | undefined;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'saml-page-'));
  await build({ root: pageDir, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 } });
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = join(outDir, normalize(path === '/' ? '/index.html' : path));
    readFile(file).then(
      (content) => res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(content),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('SAML flows of the core in Chromium', () => {
  it('the bundle has no Node built-in and no xml-crypto', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    const code = await readFile(join(outDir, /src="\/?(assets\/[^"]+\.js)"/.exec(html)![1]), 'utf8');
    expect(code).toContain('urn:oasis:names:tc:SAML:2.0:assertion');
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).not.toContain('xml-crypto');
  });

  it('signs a SAMLAssertion and exchanges an OAuth2SAMLBearerAssertion through the in-page XSUAA', async () => {
    const page = await browser!.newPage();
    await page.goto(`${baseUrl}/`);
    const failed = page
      .waitForSelector('#error:not(:empty)', { timeout: 30_000 })
      .then(async () => `page error: ${await page.textContent('#error')}`);
    const done = page.waitForSelector('#result[data-done]', { timeout: 30_000 }).then(() => 'done');
    expect(await Promise.race([done, failed])).toBe('done');
    const result = JSON.parse((await page.textContent('#result'))!) as {
      saml: { type: string; value: string };
      bearer: { value: string; error?: string };
    };
    expect(result.saml.type).toBe('SAML2.0');
    const xml = Buffer.from(result.saml.value, 'base64').toString('utf8');
    expect(xml).toMatch(/<ds:SignatureValue>[A-Za-z0-9+/=]{300,}<\/ds:SignatureValue>/);
    expect(xml).toMatch(/<saml2:NameID [^>]*>alice<\/saml2:NameID>/);
    expect(result.bearer.error).toBeUndefined();
    const claims = decodeJwt(result.bearer.value);
    expect([claims.user_name, claims.grant_type]).toEqual(['alice', 'urn:ietf:params:oauth:grant-type:saml2-bearer']);
    await page.close();
  });
});
