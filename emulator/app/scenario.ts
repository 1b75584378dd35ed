/**
 * Reading a scenario from JSON or YAML text (or an object) and validating it. JSON is read with JSON.parse (fast,
 * and bounded by the body limit); YAML only when the file name or the content type says YAML, or, without either,
 * when the text does not start like JSON.
 */
import { parseWith, ValidationError } from '../core/validation.ts';
import { parse as parseYaml } from 'yaml';
import { scenarioSchema, type Scenario } from './scenario-schema.ts';

export type ScenarioFormat = 'json' | 'yaml';

/**
 * Scenario text that is parsed but not yet validated, with the name a refusal gives it (its file). The Node face
 * hands this to the core, so a large file is validated once, by the core, and its errors still name the file.
 */
export class ParsedScenario {
  readonly value: unknown;
  readonly source: string;
  constructor(value: unknown, source: string) {
    this.value = value;
    this.source = source;
  }
}

/** A ParsedScenario is validated once: a face that keeps one (the Node face, for an unchanged file) skips the schema. */
const validated = new WeakMap<ParsedScenario, Scenario>();

export function validateScenario(value: unknown, source = 'scenario'): Scenario {
  if (!(value instanceof ParsedScenario)) return parseWith(scenarioSchema, value, source);
  let scenario = validated.get(value);
  if (!scenario) validated.set(value, (scenario = parseWith(scenarioSchema, value.value, value.source)));
  return scenario;
}

const yamlTypes = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/**
 * The format of scenario text: by a `.json` / `.yaml` / `.yml` source name, else by a JSON or YAML content type,
 * else sniffed (a first non-space `{` or `[` is JSON; so `curl --data-binary @file.yaml`, which sends a form
 * content type, still reads as YAML).
 */
export function scenarioFormatOf(text: string, source = 'scenario', contentType?: string): ScenarioFormat {
  const name = source.toLowerCase();
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  const type = contentType?.split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || type?.endsWith('+json')) return 'json';
  if (type && yamlTypes.includes(type)) return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

/** Parse and validate; a syntax error is reported with its position. `format` defaults to {@link scenarioFormatOf}. */
export function parseScenarioText(text: string, source = 'scenario', format: ScenarioFormat = scenarioFormatOf(text, source)): Scenario {
  return validateScenario(readScenarioText(text, source, format));
}

/**
 * Parse only (JSON with JSON.parse, YAML with the YAML parser): a syntax error is a ValidationError with its position;
 * the schema is checked by whoever validates the result.
 */
export function readScenarioText(
  text: string,
  source = 'scenario',
  format: ScenarioFormat = scenarioFormatOf(text, source),
): ParsedScenario {
  let value: unknown;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (err) {
      const why =
        'read as JSON by its .json name, its JSON content type, or its first character; send YAML as Content-Type: application/yaml';
      throw new ValidationError(source, [{ path: '', message: `not valid JSON: ${(err as Error).message} (${why})` }]);
    }
    return new ParsedScenario(value, source);
  }
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new ValidationError(source, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
  return new ParsedScenario(value, source);
}
