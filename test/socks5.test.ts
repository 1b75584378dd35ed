/**
 * SOCKS5 on 20004 with SAP's authentication method 0x80, driven by the `socks` client (what the SDK's mail
 * client uses) and by raw sockets: the TCP echo behind a TCP mapping, refused tokens, SAP's reply codes, and
 * malformed handshakes that end in a clean close while the emulator keeps serving.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { serviceToken } from './helpers.ts';
import { echoRoundTrip, sapAuthRequest, sapSocksConnect, type SocksDestination } from './socks5-client.ts';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: 'default' });
});

afterAll(async () => {
  await emu?.stop();
});

beforeEach(() => emu.reset());

function connectVia(jwt: string, destination: SocksDestination, locationId = ''): Promise<Socket> {
  return sapSocksConnect(emu.ports.socks5, jwt, destination, { locationId, timeout: 5000 });
}

/** The echo round trip of these tests, ending the tunnel with a half-close. */
const roundTrip = (socket: Socket, text: string): Promise<string> => echoRoundTrip(socket, text, 'end');

/** Send raw bytes; resolve with everything the server sent until it closed the connection. */
function rawExchange(bytes: Buffer[], waitMs = 3000): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(emu.ports.socks5, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed: false });
    }, waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closed: true });
    });
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
  });
}

describe('SOCKS5 with SAP authentication 0x80', () => {
  it('reaches the TCP echo behind tcp.internal:7000 and journals the connection', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const socket = await connectVia(token, { host: 'tcp.internal', port: 7000 });
    expect(await roundTrip(socket, 'hello on-prem')).toBe('hello on-prem');
    await new Promise((resolve) => socket.once('close', resolve));
    // The byte counts are journaled when the backend side of the relay closes, which may come a moment later.
    await expect.poll(() => emu.journal({ service: 'socks5' }).at(-1)?.bytesFromBackend, { timeout: 5000 }).toBe(13);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({
      bytesToBackend: 13,
      bytesFromBackend: 13,
      status: 0,
      tenant: 'provider',
      locationId: '',
      virtualTarget: 'tcp.internal:7000',
      internalTarget: `127.0.0.1:${emu.ports.backendTcp}`,
    });
  });

  it('refuses a bad token, a token of another client and an expired one (auth reply 01 05)', async () => {
    const xsuaa = await serviceToken(emu, 'xsuaa');
    await expect(connectVia('not-a-jwt', { host: 'tcp.internal', port: 7000 })).rejects.toThrow(/Authentication failed/i);
    await expect(connectVia(xsuaa, { host: 'tcp.internal', port: 7000 })).rejects.toThrow(/Authentication failed/i);
    const token = await serviceToken(emu, 'connectivity');
    emu.core.clock.advance(13 * 3600_000);
    try {
      await expect(connectVia(token, { host: 'tcp.internal', port: 7000 })).rejects.toThrow(/Authentication failed/i);
    } finally {
      emu.core.clock.useRealTime();
    }
    const entry = emu.journal({ service: 'socks5' }).at(-1);
    expect(entry).toMatchObject({ status: 5, check: 'auth' });
    expect(String(entry?.reason)).toContain('expired');
  });

  it('answers SAP reply codes: 02 unmapped host, 03 unknown location or offline connector', async () => {
    const token = await serviceToken(emu, 'connectivity');
    await expect(connectVia(token, { host: 'nothing.internal', port: 7000 })).rejects.toThrow(/NotAllowed|not allowed/i);
    await expect(connectVia(token, { host: 'erp.internal', port: 44300 })).rejects.toThrow(/NotAllowed|not allowed/i);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 2, check: 'protocol' });
    await expect(connectVia(token, { host: 'tcp.internal', port: 7000 }, 'nowhere')).rejects.toThrow(/NetworkUnreachable|unreachable/i);
    emu.onPrem.setConnectorOnline({ online: false });
    await expect(connectVia(token, { host: 'tcp.internal', port: 7000 })).rejects.toThrow(/NetworkUnreachable|unreachable/i);
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 3, check: 'offline' });
  });

  it('passes the location ID as base64: LOC1 gets its own connector', async () => {
    const token = await serviceToken(emu, 'connectivity');
    emu.onPrem.putConnector({
      locationId: 'LOC1',
      systems: [
        { virtualHost: 'tcp.loc1', virtualPort: 9, internalHost: '{{backendHost}}', internalPort: '{{backendTcpPort}}', protocol: 'TCP' },
      ],
    });
    const socket = await connectVia(token, { host: 'tcp.loc1', port: 9 }, 'LOC1');
    expect(await roundTrip(socket, 'via LOC1')).toBe('via LOC1');
    expect(emu.journal({ service: 'socks5' }).at(-1)).toMatchObject({ status: 0, locationId: 'LOC1' });
  });

  it('matches an IPv4 destination (ATYP 01) against a dotted virtual host', async () => {
    const token = await serviceToken(emu, 'connectivity');
    emu.onPrem.putConnector({
      locationId: '',
      systems: [
        {
          virtualHost: '10.1.2.3',
          virtualPort: 7000,
          internalHost: '{{backendHost}}',
          internalPort: '{{backendTcpPort}}',
          protocol: 'TCP',
        },
      ],
    });
    const socket = await connectVia(token, { host: '10.1.2.3', port: 7000 });
    expect(await roundTrip(socket, 'ipv4')).toBe('ipv4');
  });

  it('answers 07 for BIND, 08 for IPv6, 04 for an unreachable backend', async () => {
    const token = await serviceToken(emu, 'connectivity');
    const handshake = [Buffer.from([0x05, 0x01, 0x80]), sapAuthRequest(token)];
    const bind = await rawExchange([...handshake, Buffer.from([0x05, 0x02, 0x00, 0x03, 12, ...Buffer.from('tcp.internal'), 0x1b, 0x58])]);
    expect([...bind.received]).toEqual([0x05, 0x80, 0x01, 0x00, 0x05, 0x07, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
    expect(bind.closed).toBe(true);
    const ipv6 = await rawExchange([...handshake, Buffer.from([0x05, 0x01, 0x00, 0x04, ...new Array(16).fill(0), 0x1b, 0x58])]);
    expect(ipv6.received[5]).toBe(0x08);
    emu.onPrem.putConnector({
      locationId: '',
      systems: [{ virtualHost: 'dead.internal', virtualPort: 1, internalHost: '127.0.0.1', internalPort: 1, protocol: 'TCP' }],
    });
    await expect(connectVia(token, { host: 'dead.internal', port: 1 })).rejects.toThrow(/HostUnreachable|unreachable/i);
  });
});

describe('malformed input', () => {
  it('closes cleanly on a wrong version, no 0x80 offer, absurd token length and garbage, and keeps serving', async () => {
    expect((await rawExchange([Buffer.from([0x04, 0x01, 0x00, 0x50])])).closed).toBe(true);
    const noSapMethod = await rawExchange([Buffer.from([0x05, 0x01, 0x00])]);
    expect([...noSapMethod.received]).toEqual([0x05, 0xff]);
    expect(noSapMethod.closed).toBe(true);
    const huge = await rawExchange([Buffer.from([0x05, 0x01, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff])]);
    expect(huge.closed).toBe(true);
    const badVersion = await rawExchange([Buffer.from([0x05, 0x01, 0x80, 0x02, 0, 0, 0, 1, 0x41, 0])]);
    expect(badVersion.closed).toBe(true);
    const token = await serviceToken(emu, 'connectivity');
    const socket = await connectVia(token, { host: 'tcp.internal', port: 7000 });
    expect(await roundTrip(socket, 'still alive')).toBe('still alive');
  });

  it('survives random byte sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        await rawExchange(
          chunks.map((c) => Buffer.from(c)),
          50,
        );
      }),
      { numRuns: 60 },
    );
    const token = await serviceToken(emu, 'connectivity');
    const socket = await connectVia(token, { host: 'tcp.internal', port: 7000 });
    expect(await roundTrip(socket, 'after fuzzing')).toBe('after fuzzing');
  });
});
