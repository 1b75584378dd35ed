/**
 * A Cloud Connector's `certificateValidityMinutes`: the principal propagation certificate the backend receives
 * (`SSL_CLIENT_CERT`, through the SAP Cloud SDK and the HTTP proxy with a user token) is valid from one minute
 * before the emulator's clock to exactly that many minutes after it (the clock is frozen, so this is exact), is
 * issued by the emulator CA, is reused while most of its validity is left and renewed after; the default is
 * 60 minutes, and a value out of range is refused.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ControlApiError } from '../emulator/client/index.ts';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import type { EchoBody } from '../emulator/server/backend/http-backend.ts';

let emu: EmulatorHandle;
const frozenAt = Date.parse('2031-05-06T07:08:09.000Z');
const minute = 60_000;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  delete process.env.VCAP_SERVICES;
  await emu?.stop();
});

beforeEach(() => {
  emu.reset();
  emu.clock({ action: 'freeze', at: new Date(frozenAt).toISOString() });
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
});

/** The default connector as the scenario has it, with another certificate validity. */
function setValidity(minutes: number | undefined): void {
  const current = emu.onPrem
    .connectors()
    .find((t) => t.tenant === 'provider')!
    .connectors.find((c) => c.locationId === '')!;
  const { certificateValidityMinutes: _, ...rest } = current;
  emu.onPrem.putConnector(minutes === undefined ? rest : { ...rest, certificateValidityMinutes: minutes });
}

/** The certificate the backend received for alice through ONPREM_PP (X.509 principal propagation). */
async function backendCertificate(): Promise<X509Certificate> {
  const jwt = await emu.issueUserToken({ user: 'alice' });
  const res = await executeHttpRequest({ destinationName: 'ONPREM_PP', jwt, useCache: false }, { method: 'get', url: '/pp' });
  const header = (res.data as EchoBody).headers.ssl_client_cert;
  expect(typeof header).toBe('string');
  return new X509Certificate(Buffer.from(String(header), 'base64'));
}

describe("a Cloud Connector's certificateValidityMinutes", () => {
  it('sets notAfter to the emulator clock plus that many minutes (notBefore one minute back)', async () => {
    setValidity(15);
    const cert = await backendCertificate();
    expect(cert.validToDate.getTime()).toBe(frozenAt + 15 * minute);
    expect(cert.validFromDate.getTime()).toBe(frozenAt - minute);
    expect(cert.subject).toContain('CN=alice');
    expect(cert.verify(new X509Certificate(readFileSync(emu.caFile)).publicKey)).toBe(true);
  });

  it('defaults to 60 minutes', async () => {
    setValidity(undefined);
    const cert = await backendCertificate();
    expect(cert.validToDate.getTime()).toBe(frozenAt + 60 * minute);
  });

  it('reuses the certificate until 80 % of its validity has passed, then issues one valid from the new time', async () => {
    setValidity(10);
    const first = await backendCertificate();
    emu.clock({ action: 'advance', by: '7m' });
    expect((await backendCertificate()).fingerprint256).toBe(first.fingerprint256);
    emu.clock({ action: 'advance', by: '2m' });
    const renewed = await backendCertificate();
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
    expect(renewed.validToDate.getTime()).toBe(frozenAt + 9 * minute + 10 * minute);
  });

  it('a certificate of another validity is issued separately when the connector changes', async () => {
    setValidity(5);
    expect((await backendCertificate()).validToDate.getTime()).toBe(frozenAt + 5 * minute);
    setValidity(120);
    expect((await backendCertificate()).validToDate.getTime()).toBe(frozenAt + 120 * minute);
  });

  it('refuses 0 and more than 30 days with 400 naming the field, and keeps the connector as it was', async () => {
    setValidity(15);
    const connector = emu.onPrem
      .connectors()
      .find((t) => t.tenant === 'provider')!
      .connectors.find((c) => c.locationId === '')!;
    for (const value of [0, 43_201, 1.5]) {
      const refused = await emu.control.putCloudConnector({ ...connector, certificateValidityMinutes: value }).catch((err: unknown) => err);
      expect((refused as ControlApiError).status).toBe(400);
      expect(JSON.stringify((refused as ControlApiError).body)).toContain('certificateValidityMinutes');
    }
    expect((await backendCertificate()).validToDate.getTime()).toBe(frozenAt + 15 * minute);
  });
});
