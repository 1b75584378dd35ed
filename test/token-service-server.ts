/**
 * External token services for tests, over real loopback sockets: a recording OAuth token endpoint (node:http on
 * 127.0.0.1, port 0) that stands in for a third-party token service a destination names, and a port that was
 * bound and then closed, so that a connection to it is refused by the operating system.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServiceCall {
  url: URL;
  headers: Headers;
  form: URLSearchParams;
}

export interface RecordingTokenService {
  /** `http://127.0.0.1:<port>`; destinations use `${origin}/<path>` as tokenServiceURL. */
  origin: string;
  calls: TokenServiceCall[];
  last(): TokenServiceCall;
  close(): Promise<void>;
}

/**
 * Answers every POST with a bearer token (`access_token` = `external-token-<n>` for the n-th call) and records URL, headers
 * and form. Two paths answer differently: `/unauthorized` with a 401 `invalid_client`, `/assertion` with the
 * fixed token `assertion-from-provider` (a token another destination uses as its client assertion).
 */
export async function startRecordingTokenService(): Promise<RecordingTokenService> {
  const calls: TokenServiceCall[] = [];
  let origin = '';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) for (const v of [value ?? []].flat()) headers.append(key, v);
      const url = new URL(req.url ?? '/', origin);
      calls.push({ url, headers, form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      const answer =
        url.pathname === '/unauthorized'
          ? { status: 401, body: { error: 'invalid_client', error_description: 'Bad credentials' } }
          : {
              status: 200,
              body: {
                access_token: url.pathname === '/assertion' ? 'assertion-from-provider' : `external-token-${calls.length}`,
                token_type: 'bearer',
                expires_in: 3600,
                scope: 'read write',
              },
            };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    calls,
    last: () => {
      if (calls.length === 0) throw new Error('the token service has received no request');
      return calls[calls.length - 1];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on: bound by this process, then closed, so a connect gets ECONNREFUSED. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return port;
}
