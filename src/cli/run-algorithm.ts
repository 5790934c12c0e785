/**
 * `epochgraph run ALGO`: flags become the algorithm's parameters (a flag the algorithm does
 * not take is a usage error), the run happens on the daemon, and the answer prints as
 * `id value` lines (null: unreachable) or JSON.
 */
import {
  ALGORITHM_NAMES,
  type AlgorithmName,
  type AlgorithmParamsByName,
  DIRECTIONS,
  valueAt,
} from '../client/index.js';
import {
  boolFlag,
  EXIT_OK,
  enumFlag,
  type FlagValues,
  helpText,
  intFlag,
  numberFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from './args.js';
import { atFromFlags, clientFromFlags, idFromText, toJson } from './client-flags.js';
import { RUN } from './commands.js';
import { type CliIo, write } from './io.js';

/** The algorithm flags each algorithm takes (beyond --undirected and --top). */
const TAKES: Readonly<Record<AlgorithmName, readonly string[]>> = {
  bfs: ['source', 'direction'],
  pagerank: ['iterations', 'damping'],
  wcc: [],
  cdlp: ['iterations'],
  lcc: [],
  sssp: ['source', 'weight'],
};
const ALGORITHM_FLAGS = ['source', 'direction', 'iterations', 'damping', 'weight'] as const;
const MAX_ITERATIONS = 10_000;

/** The parameters the flags give for an algorithm (usage errors name the flag). */
export function algorithmParams<N extends AlgorithmName>(
  name: N,
  values: FlagValues,
): AlgorithmParamsByName[N] {
  for (const f of ALGORITHM_FLAGS) {
    if (values[f] !== undefined && !TAKES[name].includes(f)) {
      const takes = TAKES[name].map((t) => `--${t}`);
      throw new UsageError(
        `--${f} does not apply to ${name} (it takes ${[...takes, '--undirected', '--top'].join(', ')})`,
      );
    }
  }
  const p: Record<string, unknown> = {};
  if (boolFlag(values, 'undirected')) p.undirected = true;
  const top = intFlag(values, 'top', 1, Number.MAX_SAFE_INTEGER);
  if (top !== undefined) p.top = top;
  if (TAKES[name].includes('source')) {
    const source = stringFlag(values, 'source');
    if (source === undefined) throw new UsageError(`${name} needs --source ID`);
    p.source = idFromText(source, values, '--source');
  }
  const direction = enumFlag(values, 'direction', DIRECTIONS);
  if (direction !== undefined) p.direction = direction;
  const iterations = intFlag(values, 'iterations', 0, MAX_ITERATIONS);
  if (iterations !== undefined) p.iterations = iterations;
  const damping = numberFlag(values, 'damping', 0, 1);
  if (damping !== undefined) p.damping = damping;
  const weight = stringFlag(values, 'weight');
  if (weight !== undefined) {
    if (weight.length === 0) throw new UsageError('--weight: expected a property name');
    p.weight = weight;
  }
  return p as unknown as AlgorithmParamsByName[N];
}

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(RUN, argv);
  if (help) {
    await write(io.stdout, helpText(RUN));
    return EXIT_OK;
  }
  const name = positionals[0];
  if (!(ALGORITHM_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown algorithm "${name}"; known: ${ALGORITHM_NAMES.join(', ')}`);
  }
  const algorithm = name as AlgorithmName;
  const params = algorithmParams(algorithm, values);
  const at = atFromFlags(values);
  const client = clientFromFlags(values, io.env);
  const r = await client.runAlgorithm(algorithm, params, at);
  if (boolFlag(values, 'json')) {
    const plain = {
      epoch: r.epoch,
      algorithm: r.algorithm,
      ids: Array.from(r.ids),
      values: Array.from({ length: r.values.length }, (_, i) => valueAt(r.values, i)),
    };
    await write(io.stdout, `${toJson(plain, 0)}\n`);
    return EXIT_OK;
  }
  const parts: string[] = [];
  for (let i = 0; i < r.ids.length; i++) parts.push(`${r.ids[i]} ${valueAt(r.values, i)}\n`);
  await write(io.stdout, parts.join(''));
  await write(io.stderr, `${algorithm} at epoch ${r.epoch}: ${r.ids.length} vertices\n`);
  return EXIT_OK;
}
