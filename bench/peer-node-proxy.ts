/**
 * The peers group's bare HTTP proxy (bench/peers.ts): what a forward proxy on `node:http` costs with nothing
 * else in the process: absolute-form requests forwarded with `http.request` over a keep-alive agent, bodies
 * piped both ways, proxy and hop-by-hop headers dropped. No authentication, no access control, no journal.
 * `node bench/peer-node-proxy.ts [--retain-mb N]` prints `listening <port>`; `--retain-mb` keeps N MB of small
 * objects alive on the heap (to show what a bigger retained heap costs the same code).
 */
import { Agent, createServer, request, type OutgoingHttpHeaders } from 'node:http';

const retainIndex = process.argv.indexOf('--retain-mb');
const retainMb = retainIndex > 0 ? Number(process.argv[retainIndex + 1]) : 0;
// About 200 bytes per object; kept reachable until the process exits.
Object.defineProperty(globalThis, 'benchRetained', {
  value: Array.from({ length: Math.round(retainMb * 5_000) }, (_, i) => ({ id: i, name: `entry-${i}`, tags: [i, i + 1] })),
});

const dropped = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

const server = createServer((req, res) => {
  const target = /^http:\/\/([^/:]+)(?::(\d+))?(\/[^#]*)?/i.exec(req.url ?? '');
  if (!target) return void res.writeHead(400).end();
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (!dropped.has(req.rawHeaders[i].toLowerCase())) headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
  const bodyless = req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] ?? '0') === '0';
  const forward = (retry: boolean): void => {
    const upstream = request({
      host: target[1],
      port: Number(target[2] ?? 80),
      path: target[3] ?? '/',
      method: req.method,
      headers,
      agent,
    });
    upstream.on('response', (backendRes) => {
      const answer: string[] = [];
      for (let i = 0; i < backendRes.rawHeaders.length; i += 2)
        if (!dropped.has(backendRes.rawHeaders[i].toLowerCase())) answer.push(backendRes.rawHeaders[i], backendRes.rawHeaders[i + 1]);
      res.writeHead(backendRes.statusCode ?? 502, answer);
      backendRes.pipe(res);
    });
    upstream.on('error', () => {
      // A kept-alive backend connection the backend closed meanwhile: once more on a new one (bodyless requests only).
      if (retry && upstream.reusedSocket && bodyless && !res.headersSent) return forward(false);
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    if (bodyless) upstream.end();
    else req.pipe(upstream);
  };
  forward(true);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
