/**
 * Client certificates on the Node face: certificates the emulator CA issues for x509 service bindings
 * (one RSA key per process, one certificate per subject, both kept in memory), and the outbound fetch that
 * presents a keystore when the core asks for mTLS (node:https, trusting the system roots and the emulator CA).
 */
import { generateKeyPairSync } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import forge from 'node-forge';
import type { ClientCertificate, MtlsCapableFetch } from '../core/client-certificate.ts';
import { issueCertificate, type CertificateAuthority } from '../services/destination/certificates/certificates.ts';

export interface IssuedClientCertificate {
  certificate: string;
  key: string;
}

let clientKey: { pem: string; forge: forge.pki.rsa.PrivateKey } | undefined;
const issued = new Map<string, IssuedClientCertificate>();

/** A certificate chain (leaf, CA) and key for `CN=<commonName>,OU=<ou>`, issued by `ca`, valid for a year. */
export function issueClientCertificate(
  ca: CertificateAuthority,
  subject: { commonName: string; organizationalUnit?: string },
): IssuedClientCertificate {
  const cacheKey = `${ca.certPem}\n${subject.commonName}\n${subject.organizationalUnit ?? ''}`;
  const known = issued.get(cacheKey);
  if (known) return known;
  if (!clientKey) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    clientKey = { pem, forge: forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey };
  }
  const now = Date.now();
  const { chain } = issueCertificate(
    forge,
    {
      ...subject,
      publicKey: forge.pki.setRsaPublicKey(clientKey.forge.n, clientKey.forge.e),
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 365 * 24 * 3600_000),
    },
    ca,
  );
  const result = { certificate: chain.map((c) => forge.pki.certificateToPem(c)).join(''), key: clientKey.pem };
  issued.set(cacheKey, result);
  return result;
}

/**
 * The core's outbound fetch: plain `fetch`, except that a call asking for a client certificate over https
 * goes through node:https with that keystore. `caPem` is trusted in addition to the system roots.
 */
export function createMtlsFetch(caPem: string, plain: MtlsCapableFetch = (r) => fetch(r)): MtlsCapableFetch {
  return async (request, options) => {
    const certificate = options?.clientCertificate;
    if (!certificate || !request.url.startsWith('https:')) return plain(request, options);
    return fetchWithClientCertificate(request, certificate, caPem);
  };
}

async function fetchWithClientCertificate(request: Request, certificate: ClientCertificate, caPem: string): Promise<Response> {
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, key) => (headers[key] = value));
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      request.url,
      {
        method: request.method,
        headers,
        ca: [...rootCertificates, caPem],
        ...(certificate.pfx ? { pfx: Buffer.from(certificate.pfx) } : {}),
        ...(certificate.cert ? { cert: certificate.cert, key: certificate.key } : {}),
        ...(certificate.passphrase !== undefined ? { passphrase: certificate.passphrase } : {}),
        signal: request.signal,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            for (const v of [value ?? []].flat()) responseHeaders.append(key, v);
          }
          const status = res.statusCode ?? 502;
          const nullBody = status === 204 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
