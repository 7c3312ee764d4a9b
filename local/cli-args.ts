import { parseArgs } from 'node:util';

/**
 * The CLI's command lines: each command's options, read and checked in one place,
 * so that every mistake is one line saying what to write instead, and nothing has
 * started when it is found. Pure: no I/O.
 */

/** A mistake in the command line: the CLI prints its message alone and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit codes: 1 when the command ran and failed, 2 when the command line was the mistake. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** May be given more than once (`--id a --id b`). @default false */
  readonly multiple?: boolean;
  /** The command refuses to run without it. @default false */
  readonly required?: boolean;
  /** Used when the option is absent. */
  readonly default?: string;
  /** What the value is, as the usage writes it: `seconds`, `T`. */
  readonly placeholder?: string;
  /**
   * The value's syntax (a whole number, a list), not the rules of the domain, which
   * core/ and events/schemas own: what is wrong with `value`, or undefined.
   */
  readonly check?: (value: string) => string | undefined;
}

export interface CommandSpec {
  /** The command's synopsis, as in `pictor --help`: `upload <file> --tenant T --id X [--wait 120]`. */
  readonly usage: string;
  /** How many positionals it takes, and what they are, for the message when the count is wrong; `optional`: that many or none. */
  readonly positionals?: { readonly count: number; readonly what: string; readonly optional?: boolean };
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Options the command took once and no longer does, each with what to do instead: refused in one line saying so. */
  readonly removed?: Readonly<Record<string, string>>;
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand<V extends ParsedValues = ParsedValues> {
  readonly values: V;
  readonly positionals: string[];
  /** `--help` or `-h` was given: print the command's usage, run nothing. */
  readonly help: boolean;
}

/**
 * Reads `args` as `command` takes them. Every problem is a UsageError whose message
 * names the option, what was given, and what the command takes or its usage:
 * an unknown option, a value missing or given to a flag, a value its `check` refuses,
 * a required option absent, the wrong number of positionals.
 */
export function parseCommand<V extends ParsedValues = ParsedValues>(command: string, spec: CommandSpec, args: readonly string[]): ParsedCommand<V> {
  const usage = `usage: pictor ${spec.usage}`;
  const options = Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: o.type, multiple: o.multiple === true }]));
  const { tokens } = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  const values: ParsedValues = {};
  const positionals: string[] = [];
  // Asking for help is never a mistake, whatever else the line holds.
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return { values: values as V, positionals, help: true };
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const option = spec.options[token.name];
    const removed = token.rawName.startsWith('--') ? spec.removed?.[token.name] : undefined;
    if (!option && removed) throw new UsageError(`${command} no longer takes --${token.name}: ${removed}`);
    if (!option || !token.rawName.startsWith('--')) {
      const known = Object.keys(spec.options).map((name) => `--${name}`);
      throw new UsageError(`${command} has no option ${token.rawName}; ${known.length ? `it takes ${known.join(', ')}` : 'it takes no options'} (${usage}).`);
    }
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`--${token.name} is a switch and takes no value, not '${token.value}' (${usage}).`);
      values[token.name] = true;
      continue;
    }
    const what = option.placeholder ?? 'a value';
    if (token.value === undefined) throw new UsageError(`--${token.name} needs ${what} after it (${usage}).`);
    const problem = option.check?.(token.value);
    if (problem) throw new UsageError(`--${token.name} ${problem}, not '${token.value}'.`);
    if (option.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), token.value];
    else if (values[token.name] !== undefined) throw new UsageError(`--${token.name} is given twice; give it once (${usage}).`);
    else values[token.name] = token.value;
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (values[name] === undefined && option.default !== undefined) values[name] = option.default;
    if (option.required && values[name] === undefined) throw new UsageError(`${command} needs --${name}${option.placeholder ? ` ${option.placeholder}` : ''} (${usage}).`);
  }
  const expected = spec.positionals?.count ?? 0;
  if (positionals.length !== expected && !(spec.positionals?.optional && positionals.length === 0)) {
    const wanted = expected === 0 ? 'takes no arguments' : `takes ${spec.positionals!.what}`;
    throw new UsageError(`${command} ${wanted}${positionals.length ? `, not '${positionals.join(' ')}'` : ''} (${usage}).`);
  }
  return { values: values as V, positionals, help: false };
}

/** A whole number of seconds above 0. */
export function checkSeconds(value: string): string | undefined {
  return /^[1-9][0-9]*$/.test(value) ? undefined : 'takes a whole number of seconds above 0, such as 3600';
}

/** A comma-separated list of widths: whole numbers above 0. */
export function checkWidths(value: string): string | undefined {
  return /^[1-9][0-9]*(,[1-9][0-9]*)*$/.test(value) ? undefined : 'takes widths such as 320,640';
}

/** A comma-separated list of words. */
export function checkList(value: string): string | undefined {
  return /^[a-z0-9-]+(,[a-z0-9-]+)*$/i.test(value) ? undefined : 'takes a list such as webp,legacy';
}

/** A number, whatever its range: the range is the schema's to say. */
export function checkNumber(value: string): string | undefined {
  return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : 'takes a number';
}

/**
 * The first problem a zod schema found, as one line naming the option it came from:
 * the issue's path, mapped to the option that set it.
 */
export function refusal(issues: readonly { path: readonly PropertyKey[]; message: string }[], optionOf: Readonly<Record<string, string>>, given: (option: string) => string | undefined, schema: string): UsageError {
  const issue = issues[0]!;
  const path = issue.path.filter((p) => typeof p === 'string').join('.');
  const option = Object.entries(optionOf).find(([prefix]) => path === prefix || path.startsWith(`${prefix}.`))?.[1];
  if (!option) return new UsageError(`The ${schema} schema refuses it: ${path ? `${path}: ` : ''}${issue.message}.`);
  const value = given(option);
  return new UsageError(`${option}${value === undefined ? '' : ` '${value}'`} is refused by the ${schema} schema: ${issue.message}.`);
}
