/**
 * Destination CR files given at start (`--destination-crs FILE|DIR`, `destinationCrs`): YAML with any number of
 * documents (`---`), or JSON; a directory contributes its `.yaml`, `.yml` and `.json` files in name order. Only
 * documents of kind `Destination` (or of the CR's API group) are read, so a folder of Kubernetes manifests can be
 * given as it is. Each CR is checked on its own first (the error names the file, the document and the field),
 * then with the scenario it is added to (the bindings and tenants it names).
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseWith, ValidationError } from '../core/validation.ts';
import { destinationCrKind, destinationCrSchema } from '../services/transparent-proxy/index.ts';
import { readScenarioFile, ScenarioFileError } from './start-errors.ts';
import { ParsedScenario, validateScenario } from '../app/scenario.ts';

/** A CR file that is not valid YAML (or JSON), or a CR in it that does not fit; names the file, the document and the field. */
export class DestinationCrFileError extends ValidationError {
  constructor(what: string, issues: { path: string; message: string }[]) {
    super(what, issues);
    this.name = 'DestinationCrFileError';
  }
}

const crFile = new Set(['.yaml', '.yml', '.json']);
const crGroup = 'destination.connectivity.api.sap/';

function filesOf(path: string): string[] {
  const absolute = resolve(path);
  let stats;
  try {
    stats = statSync(absolute);
  } catch (err) {
    throw new ScenarioFileError(absolute, err as NodeJS.ErrnoException, 'the Destination CR file');
  }
  if (!stats.isDirectory()) return [absolute];
  return readdirSync(absolute)
    .filter((name) => crFile.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(absolute, name))
    .filter((file) => statSync(file).isFile());
}

const isCrDocument = (doc: unknown): boolean => {
  const { kind, apiVersion } = (doc ?? {}) as { kind?: unknown; apiVersion?: unknown };
  return kind === destinationCrKind || (typeof apiVersion === 'string' && apiVersion.startsWith(crGroup));
};

/**
 * A CR file's documents: a `.json` file with JSON.parse (one CR, or an array of them), anything else with the YAML
 * parser (any number of documents). A syntax error names the file, the document and the position.
 */
function documentsOf(file: string, text: string): { where: string; value: unknown }[] {
  if (extname(file).toLowerCase() === '.json') {
    const where = `Destination CR file ${file}`;
    try {
      return [{ where, value: JSON.parse(text) as unknown }];
    } catch (err) {
      throw new DestinationCrFileError(where, [
        { path: '', message: `not valid JSON: ${(err as Error).message} (read as JSON by its .json name)` },
      ]);
    }
  }
  const documents = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [documents];
  return list.map((document, i) => {
    const where = `Destination CR file ${file}${list.length > 1 ? ` (document ${i + 1})` : ''}`;
    if (document.errors.length)
      throw new DestinationCrFileError(where, [{ path: '', message: `not valid YAML: ${document.errors[0].message}` }]);
    return { where, value: document.toJS() as unknown };
  });
}

/** The CRs of the files and directories, each checked against the CR schema; each file at most `maxBytes`. */
export function readDestinationCrFiles(paths: readonly string[], maxBytes?: number): unknown[] {
  const crs: unknown[] = [];
  for (const file of paths.flatMap(filesOf)) {
    const text = readScenarioFile(file, maxBytes, 'the Destination CR file');
    for (const { where, value } of documentsOf(file, text)) {
      if (value === null || value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) {
        if (!isCrDocument(one)) continue;
        try {
          parseWith(destinationCrSchema, one, where);
        } catch (err) {
          if (err instanceof ValidationError) throw new DestinationCrFileError(where, err.issues);
          throw err;
        }
        crs.push(one);
      }
    }
  }
  return crs;
}

/**
 * The scenario with the CRs added to its `destinationCustomResources` (validated with it by the core). A scenario
 * read from a file is validated first on its own, so its errors name its file.
 */
export function withDestinationCrs(read: unknown, crs: unknown[]): unknown {
  if (!crs.length) return read;
  const scenario = read instanceof ParsedScenario ? validateScenario(read) : read;
  if (!scenario || typeof scenario !== 'object') return scenario;
  const given = (scenario as { destinationCustomResources?: unknown }).destinationCustomResources;
  return { ...scenario, destinationCustomResources: [...(Array.isArray(given) ? given : []), ...crs] };
}
