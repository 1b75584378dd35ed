/**
 * What a state directory costs: one Destination Service write (PUT of one destination) answered only after
 * the whole state is on disk (temp file, fsync, rename, fsync of the directory), next to the same write without
 * a state directory. Measured with the default scenario and with 1,000 destinations, since every write saves
 * the whole snapshot. The state directory is under the OS temp dir (set TMPDIR to measure another disk).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingToken, median, result, type BenchResult, type EmulatorHandle, type StartEmulator } from './common.ts';

export interface PersistenceSettings {
  /** Sequential writes per emulator and size. */
  persistenceWrites: number;
}

const path = '/destination-configuration/v1/subaccountDestinations';
const destination = (name: string, i: number): Record<string, string> => ({
  Name: name,
  Type: 'HTTP',
  URL: `https://${name.toLowerCase()}.example.com/${i}`,
  Authentication: 'NoAuthentication',
  ProxyType: 'Internet',
});

async function writer(emu: EmulatorHandle): Promise<(i: number) => Promise<number>> {
  const headers = { authorization: `Bearer ${await bindingToken(emu, 'destination')}`, 'content-type': 'application/json' };
  const url = `${emu.urls.services}${path}`;
  const first = await fetch(url, { method: 'POST', headers, body: JSON.stringify(destination('BENCH_WRITE', 0)) });
  if (first.status !== 201) throw new Error(`POST ${url}: ${first.status} ${await first.text()}`);
  return async (i) => {
    const started = performance.now();
    const res = await fetch(url, { method: 'PUT', headers, body: JSON.stringify(destination('BENCH_WRITE', i)) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`PUT ${url}: ${res.status}`);
    return performance.now() - started;
  };
}

/** `count` extra destinations on the provider's subaccount level (loaded as a scenario, so no per-write cost). */
function withDestinations(emu: EmulatorHandle, count: number): void {
  if (!count) return;
  const scenario = emu.core.scenario;
  const extra = Array.from({ length: count }, (_, i) => destination(`FILLER_${i}`, i));
  emu.loadScenario({
    ...scenario,
    tenants: scenario.tenants.map((t, i) => (i === 0 ? { ...t, destinations: [...t.destinations, ...extra] } : t)),
  });
}

export async function benchPersistence(startEmulator: StartEmulator, settings: PersistenceSettings): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const count of [0, 1000]) {
    const stateDir = mkdtempSync(join(tmpdir(), 'btp-emulator-bench-state-'));
    // Above BTP's 1,000 per level: the filler plus the scenario's own destinations plus the one written.
    const maxEntitiesPerLevel = 10_000;
    const persisted = await startEmulator({ port: 0, scenario: 'default', stateDir, maxEntitiesPerLevel });
    const plain = await startEmulator({ port: 0, scenario: 'default', maxEntitiesPerLevel });
    try {
      withDestinations(persisted, count);
      withDestinations(plain, count);
      const [writePersisted, writePlain] = [await writer(persisted), await writer(plain)];
      for (let i = 0; i < 20; i++) await Promise.all([writePersisted(i), writePlain(i)]);
      const on: number[] = [];
      const off: number[] = [];
      // Interleaved, so both see the same machine state.
      for (let i = 0; i < settings.persistenceWrites; i++) {
        on.push(await writePersisted(i));
        off.push(await writePlain(i));
      }
      const size = count ? `and ${count.toLocaleString('en')} destinations` : '(default scenario)';
      results.push(
        result(
          `destination write (PUT) with a stateDir ${size}`,
          'ms',
          median(on),
          'the same PUT without a stateDir',
          median(off),
          settings.persistenceWrites,
        ),
      );
    } finally {
      await Promise.all([persisted.stop(), plain.stop()]);
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  return results;
}
