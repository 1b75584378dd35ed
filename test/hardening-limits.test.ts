/**
 * Issue 15, "every input bounded": items 1, 4 and 12. The SMTP sink answers a message over its SIZE with 552
 * and keeps nothing, directly and through SOCKS5, and stays up; one just under the limit is accepted. Request
 * bodies beyond their endpoint's limit get 413 naming the limit and the option (by Content-Length and while
 * streaming); scenario JSON is read with JSON.parse and YAML only when it says so; a level holds a bounded
 * number of destinations; the journal stays under its byte bound and cuts a long query with a marker.
 */
import { request as httpRequest } from 'node:http';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';
import { nodemailerSapSocks } from './socks5-client.ts';
import { call, dest, destinationToken, httpDestination } from './state-helpers.ts';

const smtpLimit = 64 * 1024;
let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    scenario: 'default',
    smtpMaxMessageBytes: smtpLimit,
    maxBodyBytes: 256 * 1024,
    maxEntitiesPerLevel: 12,
    journalMaxBytes: 256 * 1024,
  });
});

afterAll(async () => {
  await emu?.stop();
});

function directTransport(): Transporter {
  return nodemailer.createTransport({ host: '127.0.0.1', port: emu.ports.smtp, secure: false, ignoreTLS: true });
}

async function socksTransport(): Promise<Transporter> {
  const token = await serviceToken(emu, 'connectivity');
  const transport = nodemailer.createTransport({
    host: 'smtp.internal',
    port: 25,
    secure: false,
    ignoreTLS: true,
    auth: { user: 'u', pass: 'x' },
    proxy: 'socks5://127.0.0.1:1',
  });
  transport.set('proxy_handler_socks5', nodemailerSapSocks(emu.ports.socks5, token));
  return transport;
}

describe('item 1: the SMTP sink holds to its SIZE', () => {
  it.each([
    ['directly', async () => directTransport()],
    ['through SOCKS5', socksTransport],
  ])('%s: over the limit is 552 and kept nowhere; just under it is accepted', async (_how, transportOf) => {
    const before = emu.onPrem.mails().length;
    const big = await transportOf();
    await expect(
      big.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'too big', text: 'x'.repeat(smtpLimit * 4) }),
    ).rejects.toMatchObject({ responseCode: 552 });
    big.close();
    expect(emu.onPrem.mails().length).toBe(before);
    const fits = await transportOf();
    const info = await fits.sendMail({
      from: 'a@example.com',
      to: 'b@example.com',
      subject: 'fits',
      text: `${'y'.repeat(70)}\n`.repeat(Math.floor((smtpLimit - 4096) / 71)),
    });
    fits.close();
    expect(info.accepted).toEqual(['b@example.com']);
    expect(emu.onPrem.mails().at(-1)).toMatchObject({ subject: 'fits' });
    expect((await fetch(`${emu.urls.control}/health`)).status).toBe(200);
  });
});

describe('item 4: request bodies', () => {
  it('a body over the limit (by Content-Length) is 413 naming the limit and the option; nothing changes', async () => {
    const res = await fetch(`${emu.urls.control}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ effect: { status: 503, body: 'x'.repeat(300 * 1024) } }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { message: string; option: string };
    expect(body.message).toContain('256 KiB');
    expect(body.message).toContain('--max-body-bytes');
    expect(body.option).toBe('maxBodyBytes');
    expect(emu.faults()).toEqual([]);
  });

  it('a chunked body over the limit is 413 too, read no further than the limit', async () => {
    const url = new URL(`${emu.urls.services}${dest}/subaccountDestinations`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 40 && req.write(chunk)) sent++;
        if (sent < 40) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('the scenario endpoint reads JSON with JSON.parse and YAML when the content type or the text says so', async () => {
    // The other tests need the bundled scenario (its Cloud Connector for the SOCKS5 mail): put it back whatever happens.
    onTestFinished(() => emu.loadScenario('default'));
    const json = await fetch(`${emu.urls.control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"name":"as-json","tenants":[{"subdomain":"p"}]}',
    });
    expect(await json.json()).toMatchObject({ scenario: 'as-json' });
    // What curl --data-binary @file.yaml sends: a form content type.
    const yamlAsForm = await fetch(`${emu.urls.control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name: as-yaml\ntenants:\n  - subdomain: p\n',
    });
    expect(await yamlAsForm.json()).toMatchObject({ scenario: 'as-yaml' });
    // JSON-looking text is not handed to the YAML parser: a YAML-only construct in it is a JSON error.
    const notJson = await fetch(`${emu.urls.control}/scenario`, { method: 'POST', body: '{ name: unquoted, tenants: [{subdomain: p}] }' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { message: string }).message).toContain('not valid JSON');
    const flowYaml = await fetch(`${emu.urls.control}/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: '{ name: flow-yaml, tenants: [{subdomain: p}] }',
    });
    expect(await flowYaml.json()).toMatchObject({ scenario: 'flow-yaml' });
  });

  it('a level holds at most maxEntitiesPerLevel destinations; a bulk POST beyond it is refused whole', async () => {
    emu.reset();
    const token = await destinationToken(emu.urls.services, emu.env.VCAP_SERVICES);
    const existing = ((await call(emu.urls.services, 'GET', `${dest}/subaccountDestinations`, { token })).body as unknown[]).length;
    const bulk = await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, {
      token,
      body: Array.from({ length: 13 }, (_, i) => httpDestination(`BULK_${i}`)),
    });
    expect(bulk.status).toBe(400);
    expect(JSON.stringify(bulk.body)).toContain('--max-entities-per-level');
    expect(existing).toBeLessThan(12);
    for (let i = existing; i < 12; i++)
      expect(
        (await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination(`ONE_${i}`) })).status,
      ).toBe(201);
    const over = await call(emu.urls.services, 'POST', `${dest}/subaccountDestinations`, { token, body: httpDestination('ONE_TOO_MANY') });
    expect(over.status).toBe(400);
    expect(JSON.stringify(over.body)).toContain('the most a level holds: 12 destinations');
    emu.reset();
  });
});

describe('item 12: the journal is bounded in bytes', () => {
  it('many large entries stay under journalMaxBytes; a long query is cut with a marker', async () => {
    const long = 'q'.repeat(12_000);
    for (let i = 0; i < 60; i++) await fetch(`${emu.urls.services}/no-such-route?i=${i}&long=${long}`);
    const size = emu.core.journal.size();
    expect(size.bytes).toBeLessThanOrEqual(256 * 1024);
    const entry = emu.journal({ path: '/no-such-route' }).at(-1)!;
    expect(entry.path.length).toBeLessThan(2100);
    expect(entry.path).toMatch(/…\[truncated \d+ chars\]$/);
    const whole = await (await fetch(`${emu.urls.control}/journal`)).text();
    expect(whole.length).toBeLessThan(400 * 1024);
  });
});
