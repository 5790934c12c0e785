/**
 * The daemon's configuration: command-line flags, EPOCHGRAPH_* environment variables and an
 * optional JSON config file, merged (flags > environment > file > defaults) and validated by
 * one zod schema. A bad value stops the program before it starts, with a message that names
 * the flag (and where the value came from) and why.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { EpochgraphError } from './errors.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Where the daemon's metadata lives (DESIGN §6): an etcd cluster given with --etcd, a managed
 * etcd child process, or in-process. meta/open-metadata.ts picks one; the banner names it.
 */
export const METADATA_MODES = ['external', 'managed', 'in-process'] as const;
export type MetadataMode = (typeof METADATA_MODES)[number];

/**
 * WAL bytes per partition since its last checkpoint that make the next one due (unless half
 * the last checkpoint's size is more): the trade between recovery time after a crash and the
 * cost of checkpoints during ingest (README, "Benchmarks"). partitions/ uses it as the
 * Machine's default too.
 */
export const DEFAULT_CHECKPOINT_WAL_BYTES = 64 << 20;

export const serveConfigSchema = z
  .object({
    machine: int(0, 65535).default(0),
    partitions: int(1, 256).default(Math.max(1, Math.min(256, os.availableParallelism()))),
    host: z.string().min(1).default('127.0.0.1'),
    port: int(0, 65535).default(7070),
    dataDir: z.string().min(1).default('./data'),
    etcd: z
      .array(z.url({ protocol: /^https?$/ }))
      .min(1)
      .optional(),
    metaPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_./-]{1,64}$/, 'letters, digits and _ . / - only, at most 64 characters')
      .default('gart_meta_'),
    epochMs: int(1, 60_000).default(50),
    retainMs: int(0, 7 * 24 * 3600 * 1000).default(60_000),
    checkpointWalBytes: int(1 << 20, 2 ** 40).default(DEFAULT_CHECKPOINT_WAL_BYTES),
    backupDir: z.string().min(1).optional(),
    etcdUsername: z.string().min(1).optional(),
    etcdPassword: z.string().optional(),
    etcdCaFile: z.string().min(1).optional(),
    etcdCertFile: z.string().min(1).optional(),
    etcdKeyFile: z.string().min(1).optional(),
    leaseTtlSec: int(1, 3600).default(10),
    analyticsWorkers: int(1, 256).default(Math.max(1, os.availableParallelism())),
    readWorkers: int(0, 256).default(Math.max(1, os.availableParallelism())),
    bodyLimitBytes: int(1024, 2 ** 31 - 1).default(256 << 20),
    logLevel: z.enum(LOG_LEVELS).default('info'),
  })
  .strict()
  .refine((c) => (c.etcdUsername === undefined) === (c.etcdPassword === undefined), {
    message: 'give both an etcd username and password, or neither',
    path: ['etcdPassword'],
  })
  .refine((c) => c.backupDir === undefined || c.backupDir !== c.dataDir, {
    message: 'the backup dir must differ from the data dir',
    path: ['backupDir'],
  });

export type ServeConfig = Readonly<z.infer<typeof serveConfigSchema>>;
export type ServeConfigKey = keyof z.input<typeof serveConfigSchema>;

const KEYS = Object.keys(serveConfigSchema.shape) as ServeConfigKey[];
const NUMERIC = new Set<string>([
  'machine',
  'partitions',
  'port',
  'epochMs',
  'retainMs',
  'checkpointWalBytes',
  'leaseTtlSec',
  'analyticsWorkers',
  'readWorkers',
  'bodyLimitBytes',
]);

/** `dataDir` -> `--data-dir`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `dataDir` -> `EPOCHGRAPH_DATA_DIR`. */
export function envName(key: string): string {
  return `EPOCHGRAPH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

type Source = 'flag' | 'environment' | 'config file' | 'default';

/** Turn a text value (flag or env) into the type the schema expects. */
function fromText(key: string, text: string): unknown {
  if (NUMERIC.has(key))
    return text.trim() === '' || !/^-?\d+(\.\d+)?$/.test(text.trim()) ? text : Number(text);
  if (key === 'etcd')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  return text;
}

export interface ConfigSources {
  /** Flags already split into camelCase keys and string values (e.g. from util.parseArgs). */
  flags?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file (its keys are the camelCase option names). */
  configFile?: string;
}

/** Merge and validate the serve configuration; throws INVALID_REQUEST naming the option. */
export function loadServeConfig(sources: ConfigSources): ServeConfig {
  const merged: Record<string, unknown> = {};
  const from: Record<string, Source> = {};
  if (sources.configFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(sources.configFile, 'utf8'));
    } catch (err) {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `--config ${sources.configFile}: ${(err as Error).message}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `--config ${sources.configFile}: the file must hold a JSON object`,
      );
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (!(KEYS as string[]).includes(k)) {
        throw new EpochgraphError(
          'INVALID_REQUEST',
          `--config ${sources.configFile}: unknown option "${k}" (known: ${KEYS.join(', ')})`,
        );
      }
      merged[k] = k === 'etcd' && typeof v === 'string' ? fromText(k, v) : v;
      from[k] = 'config file';
    }
  }
  for (const k of KEYS) {
    const v = sources.env?.[envName(k)];
    if (v !== undefined) {
      merged[k] = fromText(k, v);
      from[k] = 'environment';
    }
  }
  for (const [k, v] of Object.entries(sources.flags ?? {})) {
    if (v === undefined) continue;
    if (!(KEYS as string[]).includes(k))
      throw new EpochgraphError('INVALID_REQUEST', `unknown flag ${flagName(k)}`);
    merged[k] = fromText(k, v);
    from[k] = 'flag';
  }
  const result = serveConfigSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = String(issue.path[0] ?? '');
    const where = from[key] ?? 'default';
    const name =
      where === 'environment'
        ? envName(key)
        : where === 'config file'
          ? `"${key}" in ${sources.configFile}`
          : flagName(key);
    throw new EpochgraphError('INVALID_REQUEST', `${name}: ${issue.message}`, {
      option: key,
      source: where,
      issues: result.error.issues,
    });
  }
  return Object.freeze(result.data);
}
