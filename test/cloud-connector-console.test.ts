/**
 * The Cloud Connector admin console in a real headless Chromium: the page on the admin port shows the subaccount's
 * connector (tunnel state, system mappings, resources); its button takes the connector offline, which the HTTP
 * proxy and the control API see at once, and back online. A screenshot is kept in test-results/ (not committed).
 */
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { launchChromium } from './browser.ts';
import { serviceToken } from './helpers.ts';

const outputDir = fileURLToPath(new URL('../test-results/', import.meta.url));
const subaccount = '3a7d2c51-8e4f-4b09-a6d1-5c2e9f0b7a44';
let emu: EmulatorHandle;
let browser: Browser | undefined;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }] } });
  emu.loadScenario({
    name: 'scc-console',
    tenants: [
      {
        subdomain: 'provider',
        subaccountId: subaccount,
        cloudConnectors: [
          {
            displayName: 'Plant Berlin',
            systems: [
              {
                virtualHost: 'erp.virtual',
                virtualPort: 80,
                internalHost: '127.0.0.1',
                internalPort: emu.ports.backendHttp,
                resources: [{ path: '/echo', exactMatchOnly: false }],
              },
            ],
          },
        ],
      },
    ],
    bindings: [{ name: 'conn', service: 'connectivity' }],
    cloudConnectorApi: { users: [{ name: 'admin', password: 'console-pass' }] },
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await emu?.stop();
});

async function proxyStatus(): Promise<number> {
  const token = await serviceToken(emu, 'connectivity');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: emu.ports.httpProxy,
        method: 'GET',
        path: 'http://erp.virtual:80/echo',
        headers: { 'proxy-authorization': `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the admin console in Chromium', () => {
  it('shows the connector, its mappings and resources, and toggles it offline and online', async () => {
    const context = await browser!.newContext({
      ignoreHTTPSErrors: true,
      httpCredentials: { username: 'admin', password: 'console-pass' },
    });
    const page = await context.newPage();
    await page.goto(`${emu.urls.cloudConnectorApi}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const section = page.locator(`section[data-subaccount="${subaccount}"]`);
    expect(await section.locator('h2').innerText()).toBe('Plant Berlin');
    expect(await section.locator('.state').innerText()).toBe('Connected');
    const row = await section.locator('tr').nth(1).innerText();
    expect(row).toContain('erp.virtual:80');
    expect(row).toContain(`127.0.0.1:${emu.ports.backendHttp}`);
    expect(row).toContain('/echo (and sub-paths)');
    expect(await page.locator('#role').innerText()).toBe('(master)');
    expect(await proxyStatus()).toBe(200);

    await section.locator('button').click();
    await page.waitForSelector(`section[data-subaccount="${subaccount}"] .state[data-state="Disconnected"]`);
    expect(await proxyStatus()).toBe(503);
    expect(emu.onPrem.connectors()[0].connectors[0].online).toBe(false);
    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: `${outputDir}cloud-connector-console.png`, fullPage: true });

    await page.locator(`section[data-subaccount="${subaccount}"] button`).click();
    await page.waitForSelector(`section[data-subaccount="${subaccount}"] .state[data-state="Connected"]`);
    expect(await proxyStatus()).toBe(200);
    expect(await page.locator('#message').innerText()).toBe('');
    await context.close();
  }, 60_000);

  it('asks for the password change on a fresh installation', async () => {
    const fresh = await startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }] } });
    try {
      const context = await browser!.newContext({
        ignoreHTTPSErrors: true,
        httpCredentials: { username: 'Administrator', password: 'manage' },
      });
      const page = await context.newPage();
      await page.goto(`${fresh.urls.cloudConnectorApi}/`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.locator('#message').innerText()).toContain('initial password');
      expect(await page.locator('#password').isVisible()).toBe(true);
      await page.fill('input[name="oldPassword"]', 'manage');
      await page.fill('input[name="newPassword"]', 'changed-password');
      await page.click('#password button');
      await page.waitForFunction(() => document.getElementById('message')?.textContent?.startsWith('Password changed'));
      const res = await fetch(`${fresh.urls.cloudConnectorApi}/api/v1/connector/version`, {
        headers: { authorization: 'Basic ' + btoa('Administrator:changed-password') },
      });
      expect(res.status).toBe(200);
      await context.close();
    } finally {
      await fresh.stop();
    }
  }, 60_000);
});
