/**
 * Flags of the CLI: one table per command (CommandSpec), parsed with `node:util` parseArgs in
 * strict mode and rendered as `--help`. A mistake in the command line is a UsageError (exit
 * status 2) that names the flag; value checks live here too, so every flag's value is
 * validated the same way, with the flag's name in the message.
 */
import { parseArgs } from 'node:util';

/** Exit statuses of the CLI. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A mistake in the command line (unknown flag, bad value, missing argument): exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** One flag of a command. */
export interface FlagSpec {
  /** The long name, without dashes (`data-dir`). */
  readonly name: string;
  readonly type: 'string' | 'boolean';
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** What the value looks like in the help (`URL`, `N`). */
  readonly value?: string;
  readonly description: string;
  /** The default, as shown in the help. */
  readonly default?: string;
  /** The environment variable that sets it, as shown in the help. */
  readonly env?: string;
}

/** One command. */
export interface CommandSpec {
  readonly name: string;
  /** The usage line after `epochgraph `, e.g. `load FILE... [flags]`. */
  readonly usage: string;
  readonly summary: string;
  /** One line for `epochgraph --help`. */
  readonly brief: string;
  /** Paragraphs after the flags in `--help`. */
  readonly notes?: readonly string[];
  /** Positional arguments: how many, and what they are called in messages. */
  readonly positionals: { readonly min: number; readonly max: number; readonly name: string };
  readonly flags: readonly FlagSpec[];
}

export const HELP_FLAG: FlagSpec = { name: 'help', type: 'boolean', description: 'show this help' };

/** Parsed flags: kebab-case names to values. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  values: FlagValues;
  positionals: string[];
  help: boolean;
}

/** Parse a command's argv (after the command name) by its table. */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const f of [...spec.flags, HELP_FLAG]) {
    options[f.name] = { type: f.type, ...(f.multiple === true ? { multiple: true } : {}) };
  }
  options.help.short = 'h';
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(describeParseError(err, spec));
  }
  const help = parsed.values.help === true;
  if (!help) {
    const n = parsed.positionals.length;
    const { min, max, name } = spec.positionals;
    if (n < min) throw new UsageError(`missing ${name}`);
    if (n > max) {
      throw new UsageError(
        max === 0
          ? `unexpected argument "${parsed.positionals[0]}" (this command takes flags only)`
          : `unexpected argument "${parsed.positionals[max]}" (expected ${max === 1 ? `one ${name}` : `at most ${max}`})`,
      );
    }
  }
  return { values: parsed.values as FlagValues, positionals: parsed.positionals, help };
}

function describeParseError(err: unknown, spec: CommandSpec): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const flag = quoted.split(' ')[0];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag} for "epochgraph ${spec.name}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('argument missing')
        ? `${flag} needs a value`
        : message.includes('does not take an argument')
          ? `${flag} takes no value`
          : `${flag}: ${message}`;
    default:
      return message;
  }
}

/** Help text is wrapped at this width. */
export const HELP_WIDTH = 100;

/** Wrap text at `width` columns, indenting continuation lines by `indent`; existing line breaks stay. */
export function wrap(text: string, width = HELP_WIDTH, indent = 0): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    const lead = /^\s*/.exec(para)?.[0] ?? '';
    let line = '';
    for (const word of para.trim().split(/\s+/)) {
      if (line.length > 0 && line.length + 1 + word.length > width) {
        out.push(line);
        line = `${' '.repeat(indent)}${lead}${word}`;
      } else line = line.length === 0 ? `${lead}${word}` : `${line} ${word}`;
    }
    out.push(line);
  }
  return out.join('\n');
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: epochgraph ${spec.usage}`, '', wrap(spec.summary), '', 'Flags:'];
  const rows = [...spec.flags, HELP_FLAG].map((f) => {
    const left = `  --${f.name}${f.value === undefined ? '' : ` ${f.value}`}${f.name === 'help' ? ', -h' : ''}`;
    const extra: string[] = [];
    if (f.default !== undefined) extra.push(`default ${f.default}`);
    if (f.env !== undefined) extra.push(`env ${f.env}`);
    return { left, right: extra.length === 0 ? f.description : `${f.description} (${extra.join('; ')})` };
  });
  const width = Math.min(36, Math.max(...rows.map((r) => r.left.length)) + 2);
  for (const r of rows) {
    const right = wrap(r.right, HELP_WIDTH - width).replace(/\n/g, `\n${' '.repeat(width)}`);
    if (r.left.length + 2 > width) lines.push(r.left, `${' '.repeat(width)}${right}`);
    else lines.push(`${r.left.padEnd(width)}${right}`);
  }
  for (const note of spec.notes ?? []) lines.push('', wrap(note));
  lines.push('', 'Exit status: 0 success, 1 failure, 2 bad usage (unknown flag, bad value).');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Value checks: each names the flag.

/** A string flag's value, or undefined. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} takes one value`);
  return v;
}

/** An integer flag in [min, max]. */
export function intFlag(values: FlagValues, name: string, min: number, max: number): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const n = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** A finite number flag in [min, max]. */
export function numberFlag(values: FlagValues, name: string, min: number, max: number): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name}: expected a number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** A flag whose value is one of a closed set. */
export function enumFlag<T extends string>(
  values: FlagValues,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${name}: expected one of ${allowed.join(', ')}, got "${text}"`);
  }
  return text as T;
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values[name] === true;
}

/** `dataDir` -> `data-dir`. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
