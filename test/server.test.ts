/**
 * The Node server layer (`emulator/server/`) on its own, over real sockets: one port speaking HTTP and TLS chosen
 * by the first byte (dual-protocol-server), a client certificate the emulator CA issued passed on as its subject
 * while a forged subject header and a certificate of another CA are not (client-certificates), the CA and server
 * certificate kept on disk and reused (tls-material), the outbound mTLS fetch, and the files `--write-env` writes
 * (write-env): what each holds, read back by the readers they are for.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_CERT_SUBJECT_HEADER } from '../emulator/core/client-certificate.ts';
import { startEmulator } from '../emulator/index.ts';
import { createMtlsFetch, issueClientCertificate } from '../emulator/server/client-certificates.ts';
import { createDualProtocolServer, type DualProtocolServer } from '../emulator/server/dual-protocol-server.ts';
import { ensureTlsMaterial, type TlsMaterial } from '../emulator/server/tls-material.ts';
import { writeEnvFiles } from '../emulator/server/write-env.ts';

const work = mkdtempSync(join(tmpdir(), 'btp-emulator-server-'));
let tls: TlsMaterial;
let otherCa: TlsMaterial;
let server: DualProtocolServer;
let port: number;

interface Seen {
  protocol: 'http' | 'https';
  subject: string | null;
}

beforeAll(async () => {
  tls = ensureTlsMaterial(join(work, 'tls'), ['emu.example']);
  otherCa = ensureTlsMaterial(join(work, 'other-tls'));
  server = createDualProtocolServer(
    (req, res) => {
      const seen: Seen = {
        protocol: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
        subject: (req.headers[CLIENT_CERT_SUBJECT_HEADER] as string | undefined) ?? null,
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen));
    },
    { key: tls.keyPem, cert: tls.certPem, ca: tls.caPem },
  );
  port = await server.listen(0, '127.0.0.1');
});

afterAll(() => server?.close());

function json(res: IncomingMessage): Promise<Seen> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.on('data', (d: Buffer) => (text += d));
    res.on('end', () => resolve(JSON.parse(text) as Seen));
    res.on('error', reject);
  });
}

function plain(headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => resolve(json(res)));
    req.on('error', reject);
    req.end();
  });
}

function secure(
  options: { cert?: string; key?: string; headers?: Record<string, string>; servername?: string } = {},
): Promise<Seen & { peer: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca: tls.caPem,
        servername: options.servername ?? 'localhost',
        cert: options.cert,
        key: options.key,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const peer = new X509Certificate((res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!.raw);
        json(res).then((seen) => resolve({ ...seen, peer }), reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('dual-protocol server: HTTP and TLS on one port', () => {
  it('serves plain HTTP and HTTPS on the same port, routed by the first byte', async () => {
    expect(await plain()).toEqual({ protocol: 'http', subject: null });
    const tlsAnswer = await secure();
    expect(tlsAnswer).toMatchObject({ protocol: 'https', subject: null });
    // The server certificate is the emulator CA's, for localhost and the extra host.
    expect(tlsAnswer.peer.checkIssued(new X509Certificate(tls.caPem))).toBe(true);
    expect(tlsAnswer.peer.subjectAltName).toContain('DNS:emu.example');
    expect((await secure({ servername: 'emu.example' })).protocol).toBe('https');
  });

  it('an HTTP request written byte by byte on a raw socket is still HTTP', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', async () => {
        for (const ch of 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') {
          socket.write(ch);
          await new Promise((r) => setImmediate(r));
        }
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"protocol":"http"');
  });

  it('a connection that closes before its first byte, and one that sends garbage, leave the server serving', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end());
      socket.on('close', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x00])));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      socket.on('data', () => undefined);
      setTimeout(() => socket.destroy(), 200);
    });
    expect((await plain()).protocol).toBe('http');
    expect((await secure()).protocol).toBe('https');
  });

  it('close() ends idle keep-alive connections and stops listening', async () => {
    const extra = createDualProtocolServer((_req, res) => res.end('ok'), { key: tls.keyPem, cert: tls.certPem });
    const extraPort = await extra.listen(0, '127.0.0.1');
    const socket = connect(extraPort, '127.0.0.1');
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    await extra.close();
    await closed;
    await expect(fetch(`http://127.0.0.1:${extraPort}/`)).rejects.toThrow();
  });
});

describe('client certificates', () => {
  it('a certificate the emulator CA issued reaches the app as its subject', async () => {
    const issued = issueClientCertificate(
      { certPem: tls.caPem, keyPem: tls.caKeyPem },
      { commonName: 'sb-app!t1', organizationalUnit: 'tenant-1' },
    );
    const leaf = new X509Certificate(issued.certificate);
    expect(leaf.checkIssued(new X509Certificate(tls.caPem))).toBe(true);
    const seen = await secure({ cert: issued.certificate, key: issued.key });
    expect(seen.subject && decodeURIComponent(seen.subject)).toMatch(/^CN=sb-app!t1,OU=tenant-1/);
  });

  it('a certificate of another CA is not passed on (the connection is still served)', async () => {
    const foreign = issueClientCertificate({ certPem: otherCa.caPem, keyPem: otherCa.caKeyPem }, { commonName: 'intruder' });
    expect(await secure({ cert: foreign.certificate, key: foreign.key })).toMatchObject({ protocol: 'https', subject: null });
  });

  it('a subject header sent from outside is stripped, over HTTP and over TLS', async () => {
    expect(await plain({ [CLIENT_CERT_SUBJECT_HEADER]: 'CN=forged' })).toEqual({ protocol: 'http', subject: null });
    expect(await secure({ headers: { [CLIENT_CERT_SUBJECT_HEADER]: 'CN=forged' } })).toMatchObject({ subject: null });
    const issued = issueClientCertificate({ certPem: tls.caPem, keyPem: tls.caKeyPem }, { commonName: 'real' });
    const seen = await secure({ cert: issued.certificate, key: issued.key, headers: { [CLIENT_CERT_SUBJECT_HEADER]: 'CN=forged' } });
    expect(decodeURIComponent(seen.subject!)).toMatch(/^CN=real/);
  });

  it('the outbound mTLS fetch presents a keystore to an https server that requires one, and leaves other calls alone', async () => {
    const issued = issueClientCertificate({ certPem: tls.caPem, keyPem: tls.caKeyPem }, { commonName: 'outbound' });
    const mtls = createHttpsServer(
      { key: tls.keyPem, cert: tls.certPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        res.end(JSON.stringify({ cn: peer.subject?.CN, body: req.method }));
      },
    );
    const mtlsPort = await new Promise<number>((resolve) =>
      mtls.listen(0, '127.0.0.1', () => resolve((mtls.address() as { port: number }).port)),
    );
    try {
      let plainCalls = 0;
      const outbound = createMtlsFetch(tls.caPem, async (request) => {
        plainCalls++;
        return new Response(`plain ${request.url}`);
      });
      const res = await outbound(new Request(`https://localhost:${mtlsPort}/x`, { method: 'POST', body: 'payload' }), {
        clientCertificate: { cert: issued.certificate, key: issued.key },
      });
      expect(await res.json()).toEqual({ cn: 'outbound', body: 'POST' });
      expect(plainCalls).toBe(0);
      expect(await (await outbound(new Request('http://localhost:1/y'))).text()).toBe('plain http://localhost:1/y');
      expect(plainCalls).toBe(1);
      // Without a keystore the server refuses the handshake.
      await expect(fetch(`https://localhost:${mtlsPort}/x`)).rejects.toThrow();
    } finally {
      await new Promise((resolve) => mtls.close(resolve));
    }
  });
});

describe('TLS material', () => {
  it('keeps the CA on disk: a second call reuses it, and other hosts get their own server certificate from the same CA', () => {
    const again = ensureTlsMaterial(join(work, 'tls'), ['emu.example']);
    expect(again.caPem).toBe(tls.caPem);
    expect(again.certPem).toBe(tls.certPem);
    const other = ensureTlsMaterial(join(work, 'tls'), ['10.1.2.3']);
    expect(other.caPem).toBe(tls.caPem);
    const cert = new X509Certificate(other.certPem);
    expect(cert.subjectAltName).toContain('IP Address:10.1.2.3');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.checkIssued(new X509Certificate(tls.caPem))).toBe(true);
    expect(statSync(join(work, 'tls', 'ca', 'ca-key.pem')).mode & 0o777).toBe(0o600);
  });
});

describe('write-env files', () => {
  it("write ca.pem, vcap-services.json, default-env.json and .env that dotenv, Node and a shell read back as the emulator's env", async () => {
    const emu = await startEmulator({
      port: 0,
      tlsDir: join(work, 'tls'),
      scenario: {
        name: 'write-env',
        tenants: [{ subdomain: 'provider' }],
        bindings: [
          { name: "it's-xsuaa", service: 'xsuaa' },
          { name: 'my-destination', service: 'destination' },
        ],
      },
    });
    try {
      const dir = join(work, 'env');
      const files = writeEnvFiles(emu, dir);
      expect(files).toEqual({
        ca: join(dir, 'ca.pem'),
        vcapServices: join(dir, 'vcap-services.json'),
        defaultEnv: join(dir, 'default-env.json'),
        dotEnv: join(dir, '.env'),
      });
      expect(readFileSync(files.ca, 'utf8')).toBe(readFileSync(emu.caFile, 'utf8'));
      expect(statSync(files.ca).mode & 0o777).toBe(0o644);
      const vcap = JSON.parse(emu.env.VCAP_SERVICES) as Record<string, { name: string }[]>;
      expect(vcap.xsuaa[0].name).toBe("it's-xsuaa");
      expect(JSON.parse(readFileSync(files.vcapServices, 'utf8'))).toEqual(vcap);
      expect(JSON.parse(readFileSync(files.defaultEnv, 'utf8'))).toEqual({ VCAP_SERVICES: vcap });
      // Node's (and dotenv's) reader: the same bindings (a single quote in JSON is written \u0027) and the CA path.
      const dotEnv = parseEnv(readFileSync(files.dotEnv, 'utf8'));
      expect(Object.keys(dotEnv).sort()).toEqual(['NODE_EXTRA_CA_CERTS', 'VCAP_SERVICES']);
      expect(dotEnv.NODE_EXTRA_CA_CERTS).toBe(files.ca);
      expect(JSON.parse(dotEnv.VCAP_SERVICES!)).toEqual(vcap);
      // A POSIX shell sourcing the file gets the same values.
      const fromShell = await new Promise<string>((resolve, reject) =>
        execFile(
          'sh',
          ['-c', 'set -a; . "$1"; printf "%s\\n%s" "$NODE_EXTRA_CA_CERTS" "$VCAP_SERVICES"', 'sh', files.dotEnv],
          { env: {} },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      const [caFromShell, vcapFromShell] = fromShell.split('\n');
      expect(caFromShell).toBe(files.ca);
      expect(JSON.parse(vcapFromShell)).toEqual(vcap);
      // No temporary folder is left behind.
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(dir).sort()).toEqual(['.env', 'ca.pem', 'default-env.json', 'vcap-services.json']);

      // A CA path with a single quote cannot be written for both readers: refused by name, nothing half-written.
      const quoted = join(work, "it's-env");
      expect(() => writeEnvFiles(emu, quoted)).toThrow(/NODE_EXTRA_CA_CERTS .* contains a single quote/);
      expect(readdirSync(quoted)).toEqual([]);
    } finally {
      await emu.stop();
    }
  });
});
