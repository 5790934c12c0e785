/**
 * The CLI's commands and their flags, as one table: `--help` is rendered from it, the parser
 * reads it, and tests (docker-compose.yml's command line) check against it. `serve`'s flags
 * are the keys of the serve configuration (src/config.ts), so a new option there needs a line
 * in SERVE_OPTION_HELP here or the build fails.
 */
import { DEFAULT_CHECKPOINT_WAL_BYTES, envName, type ServeConfigKey, serveConfigSchema } from '../config.js';
import { type CommandSpec, type FlagSpec, kebab } from './args.js';
import { CLIENT_FLAGS, ID_TYPE_FLAG, JSON_FLAG, SNAPSHOT_FLAGS } from './client-flags.js';

/** What each serve option means in `--help` (every key of the configuration, checked by the compiler). */
const SERVE_OPTION_HELP: Readonly<
  Record<ServeConfigKey, { value: string; description: string; default?: string }>
> = {
  machine: { value: 'M', description: 'machine id in etcd keys', default: '0' },
  partitions: {
    value: 'N',
    description: 'partitions P; fixed per data dir and per etcd cluster key',
    default: 'the number of cores',
  },
  host: { value: 'HOST', description: 'HTTP listen address', default: '127.0.0.1' },
  port: { value: 'PORT', description: 'HTTP port (0: any free port)', default: '7070' },
  dataDir: { value: 'DIR', description: 'WAL, checkpoints and the managed etcd', default: './data' },
  etcd: {
    value: 'URL,...',
    description: 'use this etcd cluster (without it: a managed etcd if `etcd` is on PATH, else in-process)',
  },
  metaPrefix: { value: 'PREFIX', description: 'etcd key prefix', default: 'gart_meta_' },
  epochMs: { value: 'MS', description: 'epoch clock: seal changes every MS ms', default: '50' },
  retainMs: {
    value: 'MS',
    description: 'keep every epoch sealed in the last MS ms readable',
    default: '60000',
  },
  checkpointWalBytes: {
    value: 'BYTES',
    description:
      "checkpoint a partition after this much WAL (or half its last checkpoint's size, if more): lower recovers faster after a crash, higher costs ingest less",
    default: String(DEFAULT_CHECKPOINT_WAL_BYTES),
  },
  backupDir: { value: 'DIR', description: 'synchronous mirror of WAL and checkpoints' },
  etcdUsername: { value: 'NAME', description: 'etcd user (with --etcd-password)' },
  etcdPassword: { value: 'PASSWORD', description: 'etcd password' },
  etcdCaFile: { value: 'FILE', description: 'CA bundle for etcd over TLS' },
  etcdCertFile: { value: 'FILE', description: 'client certificate for etcd' },
  etcdKeyFile: { value: 'FILE', description: 'client key for etcd' },
  leaseTtlSec: { value: 'S', description: 'registration lease TTL in seconds', default: '10' },
  analyticsWorkers: { value: 'N', description: 'analytics worker threads', default: 'the number of cores' },
  readWorkers: {
    value: 'N',
    description: 'read pool threads for big batch-neighbour reads (0: the main thread reads)',
    default: 'the number of cores',
  },
  bodyLimitBytes: { value: 'BYTES', description: 'largest HTTP request body', default: '268435456' },
  logLevel: { value: 'LEVEL', description: 'fatal|error|warn|info|debug|trace|silent', default: 'info' },
};

/** The serve configuration keys, in the schema's order. */
export const SERVE_CONFIG_KEYS = Object.keys(serveConfigSchema.shape) as ServeConfigKey[];

export const CONFIG_FLAG: FlagSpec = {
  name: 'config',
  type: 'string',
  value: 'FILE',
  description: 'JSON config file (camelCase keys, e.g. {"dataDir": "/var/lib/epochgraph"})',
};

export const SERVE: CommandSpec = {
  name: 'serve',
  brief: 'run the daemon (HTTP API, partition workers, metadata in etcd)',
  usage: 'serve [flags]',
  summary:
    'Run the daemon: partition workers seal an epoch every --epoch-ms, metadata goes to etcd under GART key ' +
    'names, and the HTTP API serves every retained snapshot.',
  positionals: { min: 0, max: 0, name: 'argument' },
  flags: [
    ...SERVE_CONFIG_KEYS.map((key): FlagSpec => {
      const h = SERVE_OPTION_HELP[key];
      return {
        name: kebab(key),
        type: 'string',
        value: h.value,
        description: h.description,
        default: h.default,
        env: envName(key),
      };
    }),
    CONFIG_FLAG,
  ],
  notes: [
    'Flags win over EPOCHGRAPH_* environment variables, which win over the config file. A bad value stops ' +
      'the daemon before it starts, naming the flag.',
    'SIGTERM or SIGINT (Ctrl-C): stop accepting writes, seal and fsync what was applied, publish the last ' +
      'epoch, deregister, exit 0.',
  ],
};

/** Formats of `load`. `graphalytics`: `.v` files are vertices, other files `src dst [weight]` edges. */
export const LOAD_FORMATS = ['edgelist', 'csv', 'graphalytics', 'adjacency'] as const;
export type LoadFormat = (typeof LOAD_FORMATS)[number];

export const DEFAULT_BATCH_EDGES = 100_000;
export const DEFAULT_IN_FLIGHT = 4;

export const LOAD: CommandSpec = {
  name: 'load',
  brief: 'load graph files (edge list, CSV, Graphalytics) with a progress bar',
  usage: 'load FILE... [flags]',
  summary:
    'Stream graph files into the daemon as atomic columnar msgpack batches, with a progress bar (rate, ETA), ' +
    'and print the epoch that holds everything.',
  positionals: { min: 1, max: Number.POSITIVE_INFINITY, name: 'FILE (the graph files to load)' },
  flags: [
    {
      name: 'format',
      type: 'string',
      value: LOAD_FORMATS.join('|'),
      description:
        'edgelist: `src dst [weight]` lines; csv: a header with src,dst[,weight] and property columns; ' +
        'graphalytics: .v vertex files and .e edge files; adjacency: `v n1 n2 ...` lines',
      default: 'by extension (.v/.e graphalytics, .csv csv, else edgelist)',
    },
    { name: 'undirected', type: 'boolean', description: 'store every edge in both directions' },
    { name: 'label', type: 'string', value: 'L', description: 'edge label', default: 'edge' },
    {
      name: 'vertex-label',
      type: 'string',
      value: 'L',
      description: 'label of vertices from .v files and adjacency lines',
      default: 'vertex',
    },
    {
      name: 'batch-edges',
      type: 'string',
      value: 'N',
      description: 'edges (or vertices) per batch',
      default: String(DEFAULT_BATCH_EDGES),
    },
    {
      name: 'in-flight',
      type: 'string',
      value: 'N',
      description: 'batches sent before the first is acknowledged',
      default: String(DEFAULT_IN_FLIGHT),
    },
    { name: 'delimiter', type: 'string', value: 'C', description: 'CSV field delimiter', default: ',' },
    ID_TYPE_FLAG,
    { name: 'progress', type: 'boolean', description: 'show progress even when stderr is not a terminal' },
    { name: 'no-progress', type: 'boolean', description: 'show no progress bar' },
    JSON_FLAG,
    ...CLIENT_FLAGS,
  ],
  notes: [
    'Atomicity: each batch is applied whole in one epoch, or not at all. A bad line stops the load with ' +
      'FILE:LINE: reason; the batches before the one holding the bad line are applied and acknowledged, ' +
      'and nothing from that batch on is sent, so no part of the input after the last acknowledged batch ' +
      'is half-applied. The message says which lines were applied. Batches in flight may be applied in any ' +
      'order relative to each other: if the input repeats an edge with different weights, use --in-flight 1 ' +
      'to keep the last one.',
    'Examples:\n' +
      '  epochgraph load example-directed.v example-directed.e          (Graphalytics pair, by extension)\n' +
      '  epochgraph load edges.txt --format edgelist --undirected\n' +
      '  epochgraph load follows.csv --label follows --server http://10.0.0.5:7070',
  ],
};

export const EPOCHS: CommandSpec = {
  name: 'epochs',
  brief: 'show the latest and oldest epochs and per-partition counts',
  usage: 'epochs [flags]',
  summary: 'Show the latest and oldest readable epochs and per-partition counts (GET /v1/epochs).',
  positionals: { min: 0, max: 0, name: 'argument' },
  flags: [JSON_FLAG, ...CLIENT_FLAGS],
};

export const GET: CommandSpec = {
  name: 'get',
  brief: 'print one vertex at an epoch',
  usage: 'get ID [flags]',
  summary: 'Print one vertex (label, properties, degrees) at an epoch, as JSON.',
  positionals: { min: 1, max: 1, name: 'ID (the vertex id)' },
  flags: [...SNAPSHOT_FLAGS, ID_TYPE_FLAG, ...CLIENT_FLAGS],
};

export const NEIGHBORS: CommandSpec = {
  name: 'neighbors',
  brief: "print a vertex's neighbours at an epoch",
  usage: 'neighbors ID [flags]',
  summary:
    "Print a vertex's neighbours at one epoch, one id per line (with --direction both: id and direction), " +
    'following the pages of the API.',
  positionals: { min: 1, max: 1, name: 'ID (the vertex id)' },
  flags: [
    ...SNAPSHOT_FLAGS,
    { name: 'direction', type: 'string', value: 'out|in|both', description: 'which edges', default: 'out' },
    { name: 'label', type: 'string', value: 'L', description: 'only edges of this label' },
    { name: 'limit', type: 'string', value: 'N', description: 'print at most N neighbours' },
    ID_TYPE_FLAG,
    JSON_FLAG,
    ...CLIENT_FLAGS,
  ],
};

export const RUN: CommandSpec = {
  name: 'run',
  brief: 'run bfs, pagerank, wcc, cdlp, lcc or sssp on a snapshot',
  usage: 'run ALGO [flags]',
  summary:
    'Run an LDBC Graphalytics algorithm on a snapshot (bfs, pagerank, wcc, cdlp, lcc, sssp) and print ' +
    '`id value` lines (null: unreachable).',
  positionals: { min: 1, max: 1, name: 'ALGO (bfs, pagerank, wcc, cdlp, lcc or sssp)' },
  flags: [
    { name: 'source', type: 'string', value: 'ID', description: 'source vertex (bfs, sssp; required)' },
    {
      name: 'direction',
      type: 'string',
      value: 'out|in|both',
      description: 'edges to follow (bfs)',
      default: 'out',
    },
    { name: 'iterations', type: 'string', value: 'N', description: 'iterations (pagerank: 20, cdlp: 10)' },
    {
      name: 'damping',
      type: 'string',
      value: 'D',
      description: 'damping factor (pagerank)',
      default: '0.85',
    },
    {
      name: 'weight',
      type: 'string',
      value: 'PROP',
      description: 'edge weight property (sssp)',
      default: 'weight',
    },
    { name: 'undirected', type: 'boolean', description: 'count every edge in both directions' },
    { name: 'top', type: 'string', value: 'K', description: 'only the K best vertices, sorted' },
    ...SNAPSHOT_FLAGS,
    ID_TYPE_FLAG,
    JSON_FLAG,
    ...CLIENT_FLAGS,
  ],
  notes: [
    'Examples:\n' +
      '  epochgraph run pagerank --iterations 2 --top 5\n' +
      '  epochgraph run bfs --source 1\n' +
      '  epochgraph run sssp --source 1 --weight weight --epoch 12',
  ],
};

/** Every command, in the order of `epochgraph --help`. */
export const COMMANDS: readonly CommandSpec[] = [SERVE, LOAD, EPOCHS, GET, NEIGHBORS, RUN];
export const COMMAND_NAMES = COMMANDS.map((c) => c.name);

/** The top-level `epochgraph --help`. */
export function mainHelp(version: string): string {
  const lines = [
    `epochgraph ${version}: a multi-version snapshot graph store daemon`,
    '',
    'Usage: epochgraph <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.usage.replace(' [flags]', '').padEnd(16)}${c.brief}`),
    '',
    "Run 'epochgraph <command> --help' for a command's flags. Every command but serve talks to a daemon",
    `at --server (default http://127.0.0.1:7070, or EPOCHGRAPH_SERVER).`,
    '',
    'Exit status: 0 success, 1 failure, 2 bad usage (unknown flag, bad value).',
  ];
  return `${lines.join('\n')}\n`;
}
