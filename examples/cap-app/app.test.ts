/**
 * `npm test` of this example: an emulator with `emulator.scenario.yaml`, then `cds serve` in this folder as its
 * own process with nothing but the emulator's env. CatalogService serves the on-prem products (OData V2 behind the
 * `ERP` destination, reached through the connectivity proxy and the Cloud Connector) as OData V4.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startEmulator, type EmulatorHandle } from 'btp-connectivity-emulator';

const appDir = fileURLToPath(new URL('.', import.meta.url));
let emulator: EmulatorHandle;
let app: ChildProcess;
let base: string;

before(async () => {
  emulator = await startEmulator({ port: 0, scenario: `${appDir}emulator.scenario.yaml` });
  const cdsServe = createRequire(import.meta.url).resolve('@sap/cds/bin/serve.js');
  app = spawn(process.execPath, [cdsServe, '--port', '0'], {
    cwd: appDir,
    env: { ...process.env, ...emulator.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  base = await new Promise<string>((resolve, reject) => {
    let output = '';
    app.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /server listening on \{ url: '([^']+)'/.exec(output)?.[1];
      if (url) resolve(url);
    });
    app.once('exit', (code) => reject(new Error(`cds serve exited with ${code}:\n${output}`)));
  });
});

after(async () => {
  app?.kill('SIGTERM');
  await emulator?.stop();
});

test('serves the on-prem products as OData V4', async () => {
  const res = await fetch(`${base}/odata/v4/catalog/Products?$top=2`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { value: { ProductID: string; Name: string }[] };
  assert.deepEqual(
    body.value.map((p) => p.ProductID),
    ['P1', 'P2'],
  );
  assert.equal(body.value[0].Name, 'Notebook Basic 15');
});

test('reads one product by key through the ERP destination and the connectivity proxy', async () => {
  const product = (await (await fetch(`${base}/odata/v4/catalog/Products('P4')`)).json()) as { ProductID: string; Name: string };
  assert.equal(product.Name, 'Ergo Mouse');
  assert.ok(emulator.journal({ service: 'destination' }).some((e) => e.destination === 'ERP' && e.status === 200));
  assert.equal(emulator.journal({ service: 'connectivity-proxy' }).at(-1)?.status, 200);
});
