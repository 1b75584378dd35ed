/** Reading a scenario from JSON or YAML text (or an object) and validating it. */
import { parse as parseYaml } from 'yaml';
import { parseWith, scenarioSchema, ValidationError, type Scenario } from './scenario-schema.ts';

export function validateScenario(value: unknown, source = 'scenario'): Scenario {
  return parseWith(scenarioSchema, value, source);
}

/** JSON is valid YAML, so one parser reads both; a syntax error is reported with its position. */
export function parseScenarioText(text: string, source = 'scenario'): Scenario {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new ValidationError(source, [{ path: '', message: `not valid JSON or YAML: ${(err as Error).message}` }]);
  }
  return validateScenario(value, source);
}
