/**
 * The tests' SOCKS5 client for 20004 with SAP's authentication method 0x80, on the `socks` library (what the
 * SDK's mail client uses): the 0x80 request bytes, the proxy options, a tunnel to a virtual host, the handler
 * that routes a nodemailer transport through it, and an echo round trip through a tunnel. One copy, used by
 * every test that speaks 0x80.
 */
import type { Socket } from 'node:net';
import { SocksClient, type SocksProxy } from 'socks';

export type SocksDestination = { host: string; port: number };

/** SAP's 0x80 authentication request: 01 | u32be len | jwt | u8 len | base64(location). */
export function sapAuthRequest(jwt: string, locationId = ''): Buffer {
  const token = Buffer.from(jwt, 'latin1');
  const location = Buffer.from(locationId ? Buffer.from(locationId, 'utf8').toString('base64') : '', 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(token.length);
  return Buffer.concat([Buffer.from([0x01]), length, token, Buffer.from([location.length]), location]);
}

/** The `socks` proxy options for the emulator's SOCKS5 port: method 0x80 with the JWT, success is reply 01 00. */
export function sapSocksProxy(port: number, jwt: string, locationId = ''): SocksProxy {
  return {
    host: '127.0.0.1',
    port,
    type: 5,
    custom_auth_method: 0x80,
    custom_auth_request_handler: async () => sapAuthRequest(jwt, locationId),
    custom_auth_response_size: 2,
    custom_auth_response_handler: async (data: Buffer) => data[0] === 0x01 && data[1] === 0x00,
  };
}

/** A tunnel through the emulator's SOCKS5 port to a virtual host; rejects with the `socks` client's error. */
export async function sapSocksConnect(
  port: number,
  jwt: string,
  destination: SocksDestination,
  options: { locationId?: string; timeout?: number } = {},
): Promise<Socket> {
  const { socket } = await SocksClient.createConnection({
    proxy: sapSocksProxy(port, jwt, options.locationId),
    command: 'connect',
    destination,
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
  });
  return socket;
}

/** nodemailer's `proxy_handler_socks5`: opens each SMTP connection through the emulator's SOCKS5 port with 0x80. */
export function nodemailerSapSocks(port: number, jwt: string) {
  return (
    _proxy: unknown,
    options: { host?: string; port?: number },
    callback: (err: Error | null, socket?: { connection: Socket }) => void,
  ): void => {
    SocksClient.createConnection({
      command: 'connect',
      destination: { host: options.host ?? '', port: options.port ?? 25 },
      proxy: sapSocksProxy(port, jwt),
    }).then(
      (info) => callback(null, { connection: info.socket }),
      (err: Error) => callback(err),
    );
  };
}

/**
 * Writes text into a tunnel to the TCP echo and resolves with what came back once all of it is there, then ends
 * the socket (`end`, a half-close) or destroys it. The socket is resumed, since a tunnel may come paused
 * (bench's raw `socksTunnel` does).
 */
export function echoRoundTrip(socket: Socket, text: string, finish: 'end' | 'destroy' = 'destroy'): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length) {
        if (finish === 'end') socket.end();
        else socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.resume();
    socket.write(text);
  });
}
