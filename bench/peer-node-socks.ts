/**
 * The peers group's bare SOCKS5 relay (bench/peers.ts): RFC 1928 without authentication (method 0x00), CONNECT
 * to an IPv4 address or a domain name, then both directions piped. No token, no access control, no journal.
 * `node bench/peer-node-socks.ts` prints `listening <port>`.
 */
import { connect, createServer, type Socket } from 'node:net';

function relay(client: Socket): void {
  let buffered = Buffer.alloc(0);
  let stage: 'greeting' | 'request' | 'connecting' = 'greeting';
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    if (stage === 'greeting') {
      if (buffered.length < 2 || buffered.length < 2 + buffered[1]) return;
      if (buffered[0] !== 5 || !buffered.subarray(2, 2 + buffered[1]).includes(0)) return void client.end(Buffer.from([5, 0xff]));
      client.write(Buffer.from([5, 0]));
      buffered = buffered.subarray(2 + buffered[1]);
      stage = 'request';
    }
    if (stage !== 'request' || buffered.length < 5) return;
    const type = buffered[3];
    const end = type === 1 ? 8 : type === 3 ? 5 + buffered[4] : -1;
    if (buffered[1] !== 1 || end < 0) return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
    if (buffered.length < end + 2) return;
    const host = type === 1 ? [...buffered.subarray(4, 8)].join('.') : buffered.subarray(5, end).toString('latin1');
    const port = buffered.readUInt16BE(end);
    const rest = buffered.subarray(end + 2);
    stage = 'connecting';
    client.off('data', onData);
    client.pause();
    const upstream = connect({ host, port, noDelay: true }, () => {
      client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (rest.length) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => (client.writable ? client.end(Buffer.from([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])) : client.destroy()));
    client.on('close', () => upstream.destroy());
  };
  client.setNoDelay(true);
  client.on('data', onData);
  client.on('error', () => client.destroy());
}

const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  relay(socket);
});
process.once('SIGTERM', () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => process.exit(0));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
});
