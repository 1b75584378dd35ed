/**
 * An emulator per test with the SAP Cloud SDK in one process (issue 19): the SDK caches its XSUAA client per client
 * id with the token service URL it saw first, so a second emulator on a new port is not reached. Two ways out, each
 * tested with the real SDK: `clearSapCloudSdkCaches()` (sdk-adapters) between emulators, or `port: 'sticky'`.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../emulator/index.ts';
import { clearSapCloudSdkCaches } from '../sdk-adapters/index.ts';

const savedVcap = process.env.VCAP_SERVICES;
const running: EmulatorHandle[] = [];

async function start(port: number | 'sticky'): Promise<EmulatorHandle> {
  const emu = await startEmulator({ port, scenario: 'default' });
  running.push(emu);
  process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
  return emu;
}

async function stop(emu: EmulatorHandle): Promise<void> {
  running.splice(running.indexOf(emu), 1);
  await emu.stop();
}

/** The SDK's own lookup (no destination cache), as an app under test does it. */
const lookup = () => getDestination({ destinationName: 'BACKEND_BASIC', useCache: false });

/** An error's message and those of its causes. */
function messagesOf(err: unknown): string {
  const messages: string[] = [];
  for (let e = err as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) messages.push(String(e.message));
  return messages.join('\n');
}

beforeEach(() => {
  clearSapCloudSdkCaches(); // every test starts from an SDK that has seen no emulator
});
afterEach(async () => {
  for (const emu of running.splice(0)) await emu.stop();
  if (savedVcap === undefined) delete process.env.VCAP_SERVICES;
  else process.env.VCAP_SERVICES = savedVcap;
});

describe('a new emulator in the same process, seen by the SAP Cloud SDK', () => {
  it('without help the SDK keeps calling the first emulator’s token service: ECONNREFUSED', async () => {
    const first = await start(0);
    expect((await lookup())?.url).toBe(first.urls.backend);
    const oldPort = first.ports.services;
    await stop(first);
    const second = await start(0);
    expect(second.ports.services).not.toBe(oldPort);
    const failure = await lookup().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(messagesOf(failure)).toMatch(new RegExp(`localhost:${oldPort}/oauth/token[\\s\\S]*ECONNREFUSED`));
  });

  it('clearSapCloudSdkCaches() between emulators: the second one is reached on its new port', async () => {
    const first = await start(0);
    expect((await lookup())?.url).toBe(first.urls.backend);
    await stop(first);
    expect(clearSapCloudSdkCaches()).toEqual(
      expect.arrayContaining(['clearXsuaaServices', 'destinationCache', 'clientCredentialsTokenCache']),
    );
    const second = await start(0);
    expect((await lookup())?.url).toBe(second.urls.backend);
    // The destination cache is emptied too: a cached lookup of the first emulator's backend is gone.
    expect((await getDestination({ destinationName: 'BACKEND_BASIC' }))?.url).toBe(second.urls.backend);
  });

  it("port: 'sticky' keeps the services port across stop() and start, so the SDK needs nothing cleared", async () => {
    const first = await start('sticky');
    expect((await lookup())?.url).toBe(first.urls.backend);
    const port = first.ports.services;
    expect(port).toBeLessThan(32768); // below the ephemeral range, where no outgoing connection takes it
    await stop(first);
    const second = await start('sticky');
    expect(second.ports.services).toBe(port);
    expect(second.ports.httpProxy).not.toBe(first.ports.httpProxy); // the other ports are picked free
    expect((await lookup())?.url).toBe(second.urls.backend);
    // Two at once get two ports; both are handed out again after they stop.
    const third = await startEmulator({ port: 'sticky', scenario: 'default' });
    running.push(third);
    expect(third.ports.services).not.toBe(port);
    await stop(second);
    await stop(third);
    const again = [await start('sticky'), await start('sticky')].map((e) => e.ports.services).sort();
    expect(again).toEqual([port, third.ports.services].sort());
  });
});
