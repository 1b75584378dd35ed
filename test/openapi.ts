/**
 * SAP's OpenAPI 3.0 document of the Destination Service as ajv validators: `responseValidator(path, method,
 * status)` checks a response body against the operation's schema, `expectSpecConform` fails a test with the
 * schema errors.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import { parse } from 'yaml';

export type Json = Record<string, unknown>;
const specUrl = new URL('../../shared/reference/destination-service-openapi.yaml', import.meta.url);
const spec = parse(readFileSync(specUrl, 'utf8')) as Json;
const specId = 'destination-service-openapi';

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

/** The response schema of one operation; `oneOfBranch` picks one alternative of a list's `oneOf` items. */
export function responseValidator(path: string, method: string, status: string, oneOfBranch?: number): ValidateFunction {
  const operation = (spec.paths as Record<string, Record<string, Json>>)[path][method];
  const content = ((operation.responses as Json)[status] as Json).content as Record<string, { schema: Json }>;
  let schema = toJsonSchema((content['application/json'] ?? content['*/*']).schema) as Json;
  if (oneOfBranch !== undefined) schema = { ...schema, items: ((schema.items as Json).oneOf as Json[])[oneOfBranch] };
  return ajv.compile(schema);
}

/** A validator for one component schema, e.g. `DestinationLookUpResult`. */
export function componentValidator(name: string): ValidateFunction {
  return ajv.compile({ $ref: `${specId}#/components/schemas/${name}` });
}

export function expectSpecConform(validate: ValidateFunction, body: unknown): void {
  const ok = validate(body);
  expect(ok ? [] : validate.errors).toEqual([]);
}
