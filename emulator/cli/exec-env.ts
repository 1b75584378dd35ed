/**
 * `btp-emulator env --format vcap|default-env|k8s|dotenv`: the env of a running emulator in the form an app
 * reads it, through the writers of `sdk-adapters/` — VCAP_SERVICES as JSON, a `default-env.json`, a
 * Kubernetes service-binding directory (`SERVICE_BINDING_ROOT`) or dotenv lines. Without `--out` the text
 * goes to stdout; `k8s` needs `--out DIR`.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEnvContent } from '../../sdk-adapters/default-env-file.ts';
import { writeServiceBindingRoot, type BindingLayout } from '../../sdk-adapters/service-binding-root.ts';

export const envFormats = ['shell', 'json', 'vcap', 'default-env', 'k8s', 'dotenv'] as const;
export type EnvFormat = (typeof envFormats)[number];

export const bindingLayouts: BindingLayout[] = ['servicebinding.io', 'sap-k8s'];

/** A value as a POSIX shell reads it back literally: single-quoted, with each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A value for a `.env` line that dotenv, `node --env-file` and `process.loadEnvFile` read back unchanged: in
 * single quotes when it has none, else in backticks; double quotes only for values without `"`, `\` or newlines.
 */
export function dotenvQuote(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('`')) return `\`${value}\``;
  if (!/["\\\n]/.test(value)) return `"${value}"`;
  throw new Error('a value contains single quotes, backticks and double quotes; dotenv cannot hold it');
}

export interface EnvOutput {
  /** What to print on stdout. */
  stdout: string;
  /** Files written, if any. */
  written?: string[];
}

/** `out` for default-env: a directory gets `default-env.json`, a path ending in `.json` is the file itself. */
function defaultEnvTarget(out: string): string {
  if (out.endsWith('.json')) return out;
  mkdirSync(out, { recursive: true });
  return join(out, 'default-env.json');
}

export function renderEnv(
  env: Record<string, string>,
  format: EnvFormat,
  options: { out?: string; layout?: BindingLayout } = {},
): EnvOutput {
  const values = { vcapServices: env.VCAP_SERVICES ?? '{}', ...(env.NODE_EXTRA_CA_CERTS ? { caFile: env.NODE_EXTRA_CA_CERTS } : {}) };
  const toFileOrStdout = (text: string, file?: string): EnvOutput => {
    if (!file) return { stdout: text };
    writeFileSync(file, text);
    return { stdout: '', written: [file] };
  };
  switch (format) {
    case 'shell':
      return toFileOrStdout(
        `${Object.entries(env)
          .map(([key, value]) => `${key}=${shellQuote(String(value))}`)
          .join('\n')}\n`,
        options.out,
      );
    case 'json':
      return toFileOrStdout(`${JSON.stringify(env, null, 2)}\n`, options.out);
    case 'vcap':
      return toFileOrStdout(`${JSON.stringify(JSON.parse(values.vcapServices), null, 2)}\n`, options.out);
    case 'default-env': {
      const text = `${JSON.stringify(defaultEnvContent(values), null, 2)}\n`;
      return toFileOrStdout(text, options.out ? defaultEnvTarget(options.out) : undefined);
    }
    case 'dotenv':
      return toFileOrStdout(
        `${Object.entries(env)
          .map(([key, value]) => `${key}=${dotenvQuote(String(value))}`)
          .join('\n')}\n`,
        options.out,
      );
    case 'k8s': {
      if (!options.out) throw new Error('--format k8s writes a binding directory: give it with --out DIR');
      if (statSafe(options.out)?.isFile()) throw new Error(`--out ${options.out} is a file; --format k8s needs a directory`);
      const { SERVICE_BINDING_ROOT } = writeServiceBindingRoot(values, { dir: options.out, layout: options.layout });
      const lines = [`SERVICE_BINDING_ROOT=${shellQuote(SERVICE_BINDING_ROOT)}`];
      if (values.caFile) lines.push(`NODE_EXTRA_CA_CERTS=${shellQuote(values.caFile)}`);
      return { stdout: `${lines.join('\n')}\n`, written: [SERVICE_BINDING_ROOT] };
    }
  }
}

function statSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
