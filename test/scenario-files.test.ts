/**
 * Scenario and Destination CR files read by what they are (issue 19): a `.json` file with JSON.parse, YAML with
 * the YAML parser; syntax errors name the file and the position; every file read whole is bounded first
 * (maxSnapshotBytes), with an error naming the file, the limit and the option.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioFileError, startEmulator } from '../emulator/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'scenario-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const apiVersion = 'destination.connectivity.api.sap/v1';
const crOf = (name: string) => ({
  apiVersion,
  kind: 'Destination',
  metadata: { name, namespace: 'team' },
  spec: { destinationRef: { name: 'BACKEND_BASIC' }, service: { port: 8080 } },
});

describe('scenario files', () => {
  it('a JSON scenario file of many destinations loads, each value a string, its errors naming the file', async () => {
    const file = join(dir, 'many.scenario.json');
    const destinations = Array.from({ length: 2000 }, (_, i) => ({
      Name: `D_${i}`,
      Type: 'HTTP',
      URL: `https://d-${i}.example.com`,
      Authentication: 'NoAuthentication',
      ProxyType: 'Internet',
      'Port.Number': i,
      'Flag.On': true,
    }));
    writeFileSync(file, JSON.stringify({ name: 'many', tenants: [{ subdomain: 'provider', destinations }] }));
    const emu = await startEmulator({ port: 0, scenario: file, maxEntitiesPerLevel: 5000 });
    try {
      const last = emu.core.scenario.tenants[0].destinations.at(-1);
      expect(last).toMatchObject({ Name: 'D_1999', 'Port.Number': '1999', 'Flag.On': 'true' });
      // loadScenario with a file goes the same way, and a refused one names the file and the field.
      const bad = join(dir, 'bad.scenario.json');
      writeFileSync(bad, JSON.stringify({ tenants: [{ subdomain: 'provider', destinations: [{ Name: 'X', Type: 'HTTP', Port: {} }] }] }));
      expect(() => emu.loadScenario(bad)).toThrow(
        `${bad} is invalid: tenants[0].destinations[0].Port: Invalid input: expected a string, number or boolean, received object`,
      );
      expect(emu.core.scenario.name).toBe('many');
    } finally {
      await emu.stop();
    }
  });

  it('a JSON syntax error names the file and the position', async () => {
    const file = join(dir, 'broken.scenario.json');
    writeFileSync(file, '{"tenants": [{"subdomain": "provider",}]}');
    await expect(startEmulator({ port: 0, scenario: file })).rejects.toThrow(
      new RegExp(`${file} is invalid: not valid JSON: .*position 38`),
    );
  });

  it('a scenario file larger than maxSnapshotBytes is refused before it is read, naming the limit and the option', async () => {
    const file = join(dir, 'large.scenario.json');
    const destinations = [{ Name: 'LONG', Type: 'HTTP', URL: `https://long.example.com/${'x'.repeat(4096)}` }];
    writeFileSync(file, JSON.stringify({ name: 'large', tenants: [{ subdomain: 'provider', destinations }] }));
    const failed = startEmulator({ port: 0, scenario: file, maxSnapshotBytes: 4096 });
    await expect(failed).rejects.toBeInstanceOf(ScenarioFileError);
    await expect(failed).rejects.toThrow(
      `cannot read the scenario file ${file}: it is 4.1 KiB, larger than 4 KiB, the limit for scenario and state files; start the emulator with maxSnapshotBytes (--max-snapshot-bytes) to raise it`,
    );
    const emu = await startEmulator({ port: 0, scenario: file, maxSnapshotBytes: 8192 });
    try {
      expect(emu.core.scenario.name).toBe('large');
      expect(() => emu.loadScenario(file)).not.toThrow();
    } finally {
      await emu.stop();
    }
  });
});

describe('Destination CR files', () => {
  it('a .json CR file (one CR or an array) is read as JSON', async () => {
    const one = join(dir, 'one.json');
    const many = join(dir, 'many.json');
    writeFileSync(one, JSON.stringify(crOf('from-json')));
    writeFileSync(many, JSON.stringify([crOf('first'), crOf('second')]));
    const emu = await startEmulator({ port: 0, scenario: 'default', destinationCrs: [one, many] });
    try {
      const names = (await emu.control.destinationCrs()).map((c) => `${c.metadata.namespace}/${c.metadata.name}`);
      expect(names).toEqual(expect.arrayContaining(['team/from-json', 'team/first', 'team/second']));
    } finally {
      await emu.stop();
    }
  });

  it('bad JSON in a .json CR file names the file and the position; YAML in it is not guessed at', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"apiVersion": "v1", kind: Destination}');
    await expect(startEmulator({ port: 0, scenario: 'default', destinationCrs: [file] })).rejects.toThrow(
      new RegExp(`Destination CR file ${file} is invalid: not valid JSON: .*position 21.*read as JSON by its .json name`),
    );
  });

  it('a CR file larger than maxSnapshotBytes is refused naming the file and the option', async () => {
    const file = join(dir, 'large.yaml');
    writeFileSync(file, `# ${'x'.repeat(5000)}\n`);
    await expect(
      startEmulator({ port: 0, scenario: { tenants: [{ subdomain: 'provider' }] }, destinationCrs: [file], maxSnapshotBytes: 4096 }),
    ).rejects.toThrow(
      `cannot read the Destination CR file ${file}: it is 4.9 KiB, larger than 4 KiB, the limit for scenario and state files; start the emulator with maxSnapshotBytes (--max-snapshot-bytes) to raise it`,
    );
  });
});
