/** The fake on-prem system's TCP service: every byte that arrives is sent back. */
import { createServer, type Server, type Socket } from 'node:net';

export function createTcpEcho(): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  return { server, sockets };
}
