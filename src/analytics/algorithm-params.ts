/**
 * The algorithms a snapshot can run and their parameters (DESIGN.md §7), as one zod schema
 * per algorithm. Parameters come from outside (HTTP bodies, the CLI, messages between
 * threads), so they are parsed here whole before any work starts: unknown keys, wrong types
 * and out-of-range values are INVALID_REQUEST with the zod issues in `details`.
 *
 * Every algorithm takes `undirected` (default false: every edge counts in both directions
 * when true) and `top` (return only the k best vertices, sorted; see {@link TOP_ORDER}).
 */
import { z } from 'zod';
import { EpochgraphError, invalid } from '../errors.js';
import { type ExternalId, externalIdProblem } from '../model/ids.js';
import { BFS_DIRECTIONS } from './algorithms/bfs.js';
import { DEFAULT_CDLP_ITERATIONS } from './algorithms/cdlp.js';
import { DEFAULT_PAGERANK_DAMPING, DEFAULT_PAGERANK_ITERATIONS } from './algorithms/pagerank.js';
import type { TopKOrder } from './algorithms/top-k.js';

/** The algorithms, as a closed set. */
export const ALGORITHMS = ['bfs', 'pagerank', 'wcc', 'cdlp', 'lcc', 'sssp'] as const;
/** One of {@link ALGORITHMS}. */
export type AlgorithmName = (typeof ALGORITHMS)[number];

/** Iteration counts above this are refused: they are mistakes, not workloads. */
export const MAX_ITERATIONS = 10_000;
/** The default edge property SSSP reads its weights from. */
export const DEFAULT_WEIGHT_PROPERTY = 'weight';

/**
 * What "best" means for `top`: the largest ranks and coefficients, the nearest vertices
 * (unreachable ones are never selected), and for the label algorithms the smallest labels
 * (the members of the component or community whose smallest id is smallest come first).
 * Ties go to the smaller external id.
 */
export const TOP_ORDER: Readonly<Record<AlgorithmName, TopKOrder>> = Object.freeze({
  bfs: 'asc',
  pagerank: 'desc',
  wcc: 'asc',
  cdlp: 'asc',
  lcc: 'desc',
  sssp: 'asc',
});

const externalId = z.union([z.number(), z.string()]).superRefine((v, ctx) => {
  const problem = externalIdProblem(v);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
}) as z.ZodType<ExternalId>;

const iterations = (dflt: number) => z.number().int().min(0).max(MAX_ITERATIONS).default(dflt);

const common = {
  undirected: z.boolean().default(false),
  top: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
};

/** The parameter schema of each algorithm (strict: unknown keys are refused). */
export const PARAM_SCHEMAS = {
  bfs: z.strictObject({ source: externalId, direction: z.enum(BFS_DIRECTIONS).default('out'), ...common }),
  pagerank: z.strictObject({
    iterations: iterations(DEFAULT_PAGERANK_ITERATIONS),
    damping: z.number().min(0).max(1).default(DEFAULT_PAGERANK_DAMPING),
    ...common,
  }),
  wcc: z.strictObject({ ...common }),
  cdlp: z.strictObject({ iterations: iterations(DEFAULT_CDLP_ITERATIONS), ...common }),
  lcc: z.strictObject({ ...common }),
  sssp: z.strictObject({
    source: externalId,
    weight: z.string().min(1).max(256).default(DEFAULT_WEIGHT_PROPERTY),
    ...common,
  }),
} as const;

/** Parsed parameters of algorithm N, defaults filled in. */
export type AlgorithmParams<N extends AlgorithmName = AlgorithmName> = z.output<(typeof PARAM_SCHEMAS)[N]>;

/** An algorithm with its parsed parameters. */
export type AlgorithmCall = {
  [N in AlgorithmName]: { algorithm: N; params: AlgorithmParams<N> };
}[AlgorithmName];

/** Whether a string names an algorithm. */
export function isAlgorithmName(name: unknown): name is AlgorithmName {
  return typeof name === 'string' && (ALGORITHMS as readonly string[]).includes(name);
}

/** A zod issue as plain data (for `details`, and to cross threads). */
export interface ParamIssue {
  path: (string | number)[];
  code: string;
  message: string;
}

/**
 * Parse an algorithm name and raw parameters (`undefined` / `null` mean none). Throws
 * NOT_FOUND for an unknown algorithm and INVALID_REQUEST, with `details.issues`, for bad
 * parameters.
 */
export function parseAlgorithmCall(name: string, raw: unknown): AlgorithmCall {
  if (!isAlgorithmName(name)) {
    throw new EpochgraphError('NOT_FOUND', `unknown algorithm "${name}"; known: ${ALGORITHMS.join(', ')}`, {
      algorithm: name,
      algorithms: [...ALGORITHMS],
    });
  }
  const parsed = PARAM_SCHEMAS[name].safeParse(raw ?? {});
  if (!parsed.success) {
    const issues: ParamIssue[] = parsed.error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
      code: i.code,
      message: i.message,
    }));
    const first = issues[0];
    const where = first.path.length > 0 ? `${first.path.join('.')}: ` : '';
    throw invalid(`invalid parameters for ${name}: ${where}${first.message}`, { algorithm: name, issues });
  }
  return { algorithm: name, params: parsed.data } as AlgorithmCall;
}
