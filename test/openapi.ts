/**
 * SAP's OpenAPI 3.0 document of the Destination Service as ajv validators: `responseValidator(path, method,
 * status)` checks a response body against the operation's schema, `expectSpecConform` fails a test with the
 * schema errors.
 *
 * The document is SAP's and stays outside this repository: it is read from ../shared/reference/ next to the
 * clone (or BTP_EMULATOR_OPENAPI_SPEC) only when it is there. Conformance checks are tests of their own, declared
 * with `specTest`: without the document they are reported as skipped with the reason, and the behaviour tests of
 * the same file still run. BTP_EMULATOR_REQUIRE_SPEC=1 (set by .ci/run) makes a missing document a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect, it, type TestContext } from 'vitest';
import { parse } from 'yaml';

export type Json = Record<string, unknown>;
const specPath = process.env.BTP_EMULATOR_OPENAPI_SPEC
  ? resolve(process.env.BTP_EMULATOR_OPENAPI_SPEC)
  : fileURLToPath(new URL('../../shared/reference/destination-service-openapi.yaml', import.meta.url));
/** Whether SAP's OpenAPI document is there to check against. */
export const specAvailable = existsSync(specPath);
const specRequired = process.env.BTP_EMULATOR_REQUIRE_SPEC === '1';
const specMissing = `SAP's Destination Service OpenAPI document is not at ${specPath} (set BTP_EMULATOR_OPENAPI_SPEC to its path)`;
const specId = 'destination-service-openapi';
// The default reporter shows only a count of skipped tests; this names the reason once per test file.
if (!specAvailable && !specRequired) console.warn(`OpenAPI conformance tests skipped: ${specMissing}`);

/**
 * A test of conformance to SAP's OpenAPI document. Without the document it is skipped with the reason, or fails
 * when BTP_EMULATOR_REQUIRE_SPEC=1. Keep behaviour assertions in plain `it` tests, so they run either way.
 */
export function specTest(name: string, fn: (context: TestContext) => Promise<void> | void): void {
  it(name, async (context) => {
    if (!specAvailable) {
      if (specRequired) throw new Error(`BTP_EMULATOR_REQUIRE_SPEC=1: ${specMissing}`);
      context.skip(specMissing);
    }
    await fn(context);
  });
}

/** OpenAPI 3.0 schema → JSON Schema: `nullable` becomes a null type, refs point into the components schema added under `specId`. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'example' || key === 'examples' || key === 'nullable' || key.startsWith('x-')) continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out.$ref = `${specId}${value}`;
    else out[key] = toJsonSchema(value);
  }
  const nullable = (node as Json).nullable === true;
  if (nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

interface LoadedSpec {
  paths: Record<string, Record<string, Json>>;
  ajv: Ajv;
}
let loaded: LoadedSpec | undefined;

/** The document, parsed and compiled once, on first use (only specTest bodies get here). */
function loadSpec(): LoadedSpec {
  if (loaded) return loaded;
  if (!specAvailable) throw new Error(`${specMissing}; check conformance only inside specTest()`);
  const spec = parse(readFileSync(specPath, 'utf8')) as Json;
  const components = toJsonSchema((spec.components as Json).schemas) as Record<string, Json>;
  // The document declares BulkDelete as `type: string` although it lists object properties (Count, Summary)
  // and every example is an object; validate it as the object it describes.
  components.BulkDelete = { ...components.BulkDelete, type: 'object' };
  // Owner's description says "Subaccount id and instance id could have null value", but the properties are
  // plain strings without `nullable`; SAP's own examples carry `"InstanceId": null`. Allow null as described.
  const ownerProps = components.Owner.properties as Record<string, Json>;
  for (const key of ['SubaccountId', 'InstanceId']) ownerProps[key] = { ...ownerProps[key], type: ['string', 'null'] };

  const ajv = new Ajv({ strict: false, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  ajv.addSchema({ $id: specId, components: { schemas: components } });
  loaded = { paths: spec.paths as LoadedSpec['paths'], ajv };
  return loaded;
}

/** The response schema of one operation; `oneOfBranch` picks one alternative of a list's `oneOf` items. */
export function responseValidator(path: string, method: string, status: string, oneOfBranch?: number): ValidateFunction {
  const { paths, ajv } = loadSpec();
  const operation = paths[path][method];
  const content = ((operation.responses as Json)[status] as Json).content as Record<string, { schema: Json }>;
  let schema = toJsonSchema((content['application/json'] ?? content['*/*']).schema) as Json;
  if (oneOfBranch !== undefined) schema = { ...schema, items: ((schema.items as Json).oneOf as Json[])[oneOfBranch] };
  return ajv.compile(schema);
}

/** A validator for one component schema, e.g. `DestinationLookUpResult`. */
export function componentValidator(name: string): ValidateFunction {
  return loadSpec().ajv.compile({ $ref: `${specId}#/components/schemas/${name}` });
}

export function expectSpecConform(validate: ValidateFunction, body: unknown): void {
  const ok = validate(body);
  expect(ok ? [] : validate.errors).toEqual([]);
}
