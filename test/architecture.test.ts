/**
 * The layers and the service shape (docs/architecture.md): the dependency rule of .dependency-cruiser.cjs finds no
 * import circle and no import from a lower layer into a higher one, emulator/core imports nothing but itself, and
 * every service folder has the same files.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const servicesDir = join(root, 'emulator', 'services');
const shape = ['index.ts', 'schema.ts', 'state.ts', 'gateway.ts', 'routes.ts', 'errors.ts'];

async function cruiseEmulator(): Promise<ICruiseResult> {
  const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as { forbidden: unknown[]; options: object };
  const previous = process.cwd();
  process.chdir(root);
  try {
    const result = await cruise(['emulator', 'sdk-adapters'], {
      ...config.options,
      validate: true,
      ruleSet: { forbidden: config.forbidden },
    } as never);
    return result.output as ICruiseResult;
  } finally {
    process.chdir(previous);
  }
}

describe('architecture', () => {
  it('no import circle and no upward import (the rule set of .dependency-cruiser.cjs)', async () => {
    const result = await cruiseEmulator();
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(violations).toEqual([]);
    // The rule set really ran over the sources: it saw the core and every service.
    const sources = result.modules.map((m) => m.source);
    expect(sources).toContain('emulator/core/plugin.ts');
    expect(sources.filter((s) => s.startsWith('emulator/services/')).length).toBeGreaterThan(30);
  }, 60_000);

  it('emulator/core imports nothing of the emulator but itself', async () => {
    const result = await cruiseEmulator();
    const upward = result.modules
      .filter((m) => m.source.startsWith('emulator/core/'))
      .flatMap((m) => m.dependencies.filter((d) => d.resolved.startsWith('emulator/') && !d.resolved.startsWith('emulator/core/')))
      .map((d) => d.resolved);
    expect(upward).toEqual([]);
  }, 60_000);

  it('every service folder has the same files', () => {
    const folders = readdirSync(servicesDir).filter((name) => statSync(join(servicesDir, name)).isDirectory());
    expect(folders.length).toBeGreaterThanOrEqual(7);
    const missing = folders.flatMap((folder) =>
      shape.filter((file) => !existsSync(join(servicesDir, folder, file))).map((f) => `${folder}/${f}`),
    );
    expect(missing).toEqual([]);
  });
});
