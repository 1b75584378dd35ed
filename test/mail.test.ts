/**
 * Mail through SOCKS5 (20004) to the fake backend's SMTP sink with the OnPremise MAIL destination
 * `ONPREM_MAIL` (smtp.internal:25 → sink): once with `@sap-cloud-sdk/mail-client` (3.x, unmodified), once
 * with nodemailer over a `socks` connection with SAP's 0x80 authentication. The control API returns the mails.
 */
import { type ReceivedMail } from '../emulator/services/backend/state.ts';
import { sendMail } from '@sap-cloud-sdk/mail-client';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';
import { nodemailerSapSocks } from './socks5-client.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

async function mailsFromControlApi(): Promise<ReceivedMail[]> {
  const res = await fetch(`${emu.urls.control}/backend/mails`);
  return ((await res.json()) as { mails: ReceivedMail[] }).mails;
}

describe('mail to the on-prem SMTP sink', () => {
  it('@sap-cloud-sdk/mail-client sends through the MAIL OnPremise destination', async () => {
    const responses = await sendMail({ destinationName: 'ONPREM_MAIL', useCache: false }, [
      { from: 'app@example.com', to: 'erp-team@example.com', subject: 'Hello on-prem', text: 'sent through SOCKS5' },
    ]);
    expect(responses[0].accepted).toEqual(['erp-team@example.com']);
    const [mail] = await mailsFromControlApi();
    expect(mail).toMatchObject({ from: 'app@example.com', to: ['erp-team@example.com'], user: 'mailer', subject: 'Hello on-prem' });
    expect(mail.raw).toContain('sent through SOCKS5');
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0, virtualTarget: 'smtp.internal:25' });
  });

  it('nodemailer over a socks connection with 0x80 authentication', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const transport = nodemailer.createTransport({
      host: 'smtp.internal',
      port: 25,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'someone', pass: 'x' },
      proxy: 'socks5://127.0.0.1:1',
    });
    // nodemailer hands the connection to a handler, which opens it through SOCKS5 with SAP's 0x80 auth.
    transport.set('proxy_handler_socks5', nodemailerSapSocks(emu.ports.socks5, token));
    await transport.sendMail({ from: 'nm@example.com', to: ['a@example.com', 'b@example.com'], subject: 'Via nodemailer', text: 'body' });
    transport.close();
    const mails = emu.onPrem.mails();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      from: 'nm@example.com',
      to: ['a@example.com', 'b@example.com'],
      user: 'someone',
      subject: 'Via nodemailer',
    });
    expect(await fetch(`${emu.urls.control}/backend/mails`, { method: 'DELETE' }).then((r) => r.status)).toBe(204);
    expect(emu.onPrem.mails()).toEqual([]);
  });
});
