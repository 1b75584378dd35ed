/**
 * TLS client certificates across the core's edge. Inbound: the Node face verifies a client certificate
 * against the emulator CA and passes its subject to the core in one header (stripped from outside input,
 * so only the face can set it). Outbound: a keystore the core wants presented on a call it makes.
 */

/** Set by the Node face on requests over TLS whose client certificate the emulator CA issued: the subject DN, URI-encoded. */
export const CLIENT_CERT_SUBJECT_HEADER = 'x-btp-emulator-client-cert-subject';

/**
 * Set by the Node face next to {@link CLIENT_CERT_SUBJECT_HEADER}: the client certificate's SHA-256 thumbprint of its
 * DER, base64url (RFC 8705 `x5t#S256`), for tokens bound to the certificate (`cnf`). Stripped from outside input too.
 */
export const CLIENT_CERT_X5T_HEADER = 'x-btp-emulator-client-cert-x5t';

/** The verified client certificate's `x5t#S256` thumbprint from a request, if the face set one. */
export function clientCertificateThumbprint(headers: Headers): string | undefined {
  const value = headers.get(CLIENT_CERT_X5T_HEADER);
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** What a TLS client presents: a PKCS#12 keystore, or PEM certificate chain and key; `passphrase` opens either. */
export interface ClientCertificate {
  pfx?: Uint8Array;
  cert?: string;
  key?: string;
  passphrase?: string;
}

/** The verified client certificate's subject from a request, e.g. `CN=sb-app!t1,OU=…,O=…`, if the face set one. */
export function clientCertificateSubject(headers: Headers): string | undefined {
  const value = headers.get(CLIENT_CERT_SUBJECT_HEADER);
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** The CN of a subject DN in `CN=…,OU=…` form. */
export function commonNameOf(subject: string): string | undefined {
  return /(?:^|,)CN=([^,]*)/.exec(subject)?.[1];
}

/** How the core calls servers outside itself; `clientCertificate` asks the face to present it (mTLS). */
export type MtlsCapableFetch = (request: Request, options?: { clientCertificate?: ClientCertificate }) => Promise<Response>;

/** Issues a certificate and key (PEM) for a client, signed by the emulator CA; supplied by the Node face. */
export type ClientCertificateIssuer = (subject: { commonName: string; organizationalUnit?: string }) => {
  certificate: string;
  key: string;
};
