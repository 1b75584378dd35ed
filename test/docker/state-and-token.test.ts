/**
 * The image with a state directory and a control token, through the Testcontainers module: the control client
 * sends the token (a request without it is a 401), and what was changed through the control API and the
 * Destination Service is still there after the container restarts (the image's /state directory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtpEmulatorContainer, type StartedBtpEmulatorContainer } from 'btp-connectivity-emulator/testcontainers';
import { emulatorImage } from './docker-cli.ts';

let emulator: StartedBtpEmulatorContainer;
const token = 'container-control-token-7';

beforeAll(async () => {
  emulator = await new BtpEmulatorContainer(emulatorImage())
    .withNetworkMode('host')
    .withControlToken(token)
    .withEmulatorArgs('--state-dir', '/state')
    .start();
});

afterAll(async () => {
  await emulator?.stop();
});

async function healthy(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the image with --state-dir and a control token', () => {
  it("needs the token on the control API; the module's client sends it", async () => {
    expect((await fetch(`${emulator.getControlUrl()}/scenario`)).status).toBe(401);
    expect((await fetch(`${emulator.getControlUrl()}/health`)).status).toBe(200);
    expect((await emulator.control.scenario()).name).toBe('default');
  });

  it('keeps a change across a restart of the container', async () => {
    await emulator.control.addStub({ id: 'survives', path: '/survives', body: 'still here' });
    await emulator.control.setCloudConnectorOnline(false, { locationId: 'LOC1' });
    await emulator.restart();
    await healthy(`${emulator.getControlUrl()}/health`);
    expect((await emulator.control.stubs()).map((s) => s.id)).toContain('survives');
    const provider = (await emulator.control.cloudConnectors()).find((t) => t.tenant === 'provider')!;
    expect(provider.connectors.find((c) => c.locationId === 'LOC1')?.online).toBe(false);
  });
});
