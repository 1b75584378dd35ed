/**
 * examples/cap-app, run as `cds serve` in its own process with nothing but the emulator's env: its
 * CatalogService reads Products from the on-prem OData V2 service behind the `ERP` destination, through the
 * connectivity proxy and the Cloud Connector, and serves them as OData V4.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type EmulatorHandle } from '../../emulator/index.ts';
import { startAppProcess, type AppProcess } from './app-process.ts';

const appDir = fileURLToPath(new URL('../../examples/cap-app/', import.meta.url));
const cdsServe = createRequire(import.meta.url).resolve('@sap/cds/bin/serve.js');
let emu: EmulatorHandle;
let app: AppProcess;
let base: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, scenario: `${appDir}emulator.scenario.yaml` });
  app = await startAppProcess([cdsServe, '--port', '0'], {
    cwd: appDir,
    env: { ...process.env, ...emu.env },
    ready: /server listening on \{ url: '([^']+)'/,
  });
  base = app.ready[1];
});

afterAll(async () => {
  await app?.stop();
  await emu?.stop();
});

describe('examples/cap-app', () => {
  it('serves the on-prem products as OData V4', async () => {
    const res = await fetch(`${base}/odata/v4/catalog/Products?$top=2`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { value: { ProductID: string; Name: string }[] };
    expect(body.value).toEqual([
      expect.objectContaining({ ProductID: 'P1', Name: 'Notebook Basic 15' }),
      expect.objectContaining({ ProductID: 'P2' }),
    ]);
  });

  it('reads one product by key, through the ERP destination and the connectivity proxy', async () => {
    const res = await fetch(`${base}/odata/v4/catalog/Products('P4')`);
    expect(await res.json()).toMatchObject({ ProductID: 'P4', Name: 'Ergo Mouse' });
    expect(emu.journal({ service: 'destination' }).some((e) => e.destination === 'ERP' && e.status === 200)).toBe(true);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 200, virtualTarget: 'erp.internal:44300' });
  });

  it('reports the backend’s 404 for an unknown key as a failed remote call (CAP answers 502)', async () => {
    const res = await fetch(`${base}/odata/v4/catalog/Products('NOPE')`);
    expect(res.status).toBe(502);
    expect(emu.journal({ service: 'connectivity-proxy' }).at(-1)).toMatchObject({ status: 404 });
  });
});
