/**
 * The certificate endpoints: `Accept: application/pkix-cert` gets the DER file, anything else its details as JSON
 * (`notAfterTimeStamp`, `notBeforeTimeStamp`, `subjectDN`, `issuer`, `serialNumber`). The emulator's are its own:
 * the principal-propagation CA is the emulator CA (it signs the short-lived certificates the proxies send), the
 * system and UI certificates are the server certificate of its TLS ports.
 */
import { loadForge } from '../../../core/forge.ts';
import { notFound } from './errors.ts';

export interface CertificatePems {
  system?: string;
  ppCa?: string;
  ui?: string;
}

export async function certificateAnswer(pem: string | undefined, accept: string, name: string): Promise<Response> {
  if (!pem) throw notFound(`No ${name} is configured (the in-process core has no CA; startEmulator() gives it one)`);
  const forge = await loadForge();
  const certificate = forge.pki.certificateFromPem(pem);
  if (/application\/pkix-cert/i.test(accept)) {
    const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes();
    const bytes = Uint8Array.from(der, (ch) => ch.charCodeAt(0));
    return new Response(bytes, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment;filename="${name.replace(/Certificate$/, '').replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`)}_certificate.der"`,
      },
    });
  }
  const dn = (attributes: { shortName?: string; value?: unknown }[]): string =>
    attributes
      .slice()
      .reverse()
      .map((a) => `${a.shortName ?? '?'}=${String(a.value)}`)
      .join(',');
  return Response.json({
    notAfterTimeStamp: certificate.validity.notAfter.getTime(),
    notBeforeTimeStamp: certificate.validity.notBefore.getTime(),
    subjectDN: dn(certificate.subject.attributes),
    issuer: dn(certificate.issuer.attributes),
    serialNumber: (certificate.serialNumber.match(/../g) ?? [certificate.serialNumber]).join(':'),
  });
}
