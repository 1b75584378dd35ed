/**
 * The fake on-prem system's HTTP side. Stub routes (scenario + control API, newest first) answer first;
 * then the OData sample service under /sap/opu/odata/ and /odata/v4/; `GET /bytes/<n>` streams n bytes and
 * `POST /discard` counts and drops the body (bulk transfer measurements); every other request is echoed as
 * JSON (method, path, query, headers, body), so tests can assert exactly what arrived behind the Cloud Connector.
 */
import { matchStub, type BackendStub } from '../../services/backend/state.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { echoQuery, stubResponse } from '../../services/backend/gateway.ts';
import type { EmulatorCore } from '../../app/emulator-core.ts';
import { handleODataSample } from './odata-sample.ts';
import { meetBackendFault } from '../../services/backend/gateway.ts';
import { httpTimeoutOptions, resolveTimeouts, type ConnectionTimeouts } from '../timeouts.ts';

export interface EchoBody {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const maxBody = 10 * 1024 * 1024;
const maxBytes = 1024 * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 'emulator-bulk-data-');

/** `GET /bytes/<n>`: n bytes, streamed with back-pressure. */
function streamBytes(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

/** `POST /discard`: reads the whole body without keeping it and answers its size. */
function discardBody(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    const text = JSON.stringify({ bytes });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBody) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendStub(stub: BackendStub, method: string, res: ServerResponse): void {
  const answer = stubResponse(stub, method);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? undefined);
}

export function createHttpBackend(core: EmulatorCore, timeouts: Required<ConnectionTimeouts> = resolveTimeouts()): Server {
  return createServer(httpTimeoutOptions(timeouts), (req, res) => {
    handle(core, req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`backend error: ${err.message}`);
    });
  });
}

async function handle(core: EmulatorCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The origin-form target as a path: `//x` is a path here, not a scheme-relative URL naming host x.
  const url = new URL(`http://backend.local${(req.url ?? '/').startsWith('/') ? '' : '/'}${req.url ?? ''}`);
  const method = req.method ?? 'GET';
  const fault = await meetBackendFault(core, { method, path: req.url ?? '/', header: (name) => req.headers[name] });
  if (fault?.kind === 'drop') return void req.socket.destroy();
  if (fault?.kind === 'answer') {
    req.resume();
    if (!res.destroyed) {
      res.writeHead(fault.status, { ...fault.headers, 'content-length': Buffer.byteLength(fault.body) });
      res.end(fault.body);
    }
    return;
  }
  if (fault) res.once('finish', () => fault.answered(res.statusCode));
  const stub = matchStub(core.state.onPrem, method, url.pathname);
  if (stub) {
    req.resume();
    if (stub.delayMs) await new Promise((resolve) => setTimeout(resolve, stub.delayMs));
    if (!res.destroyed) sendStub(stub, method, res);
    return;
  }
  const bulk = /^\/bytes\/(\d+)$/.exec(url.pathname);
  if (bulk && method === 'GET' && Number(bulk[1]) <= maxBytes) return streamBytes(res, Number(bulk[1]));
  if (url.pathname === '/discard' && (method === 'POST' || method === 'PUT')) return discardBody(req, res);
  const body = await readBody(req);
  if (handleODataSample(req, res, url)) return;
  const echo: EchoBody = { method, path: url.pathname, query: echoQuery(url), headers: req.headers, body: body.toString('utf8') };
  const text = JSON.stringify(echo);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(method === 'HEAD' ? undefined : text);
}
