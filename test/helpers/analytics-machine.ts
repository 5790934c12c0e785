/**
 * Helpers for the analytics integration tests: a real Machine in a temporary directory,
 * Graphalytics files loaded into it through `machine.submit` (the real write path), and the
 * benchmark's comparison rules applied to service results.
 */
import { Machine } from '../../partitions/machine.js';
import type { AlgorithmResult } from '../../src/analytics/index.js';
import { readAdjacency, readEdgeList, readVertexFile } from '../../src/formats/index.js';
import type { ExternalId } from '../../src/model/ids.js';
import { decodeBatch } from '../../src/model/ops.js';
import { rng } from './rng.js';
import { tempDir } from './temp-dir.js';

export { fixture, GRAPHALYTICS_DIR, readExpected } from './graphalytics-files.js';

/** Small store limits for tests (as in machine-basic.test.ts). */
export const TEST_LIMITS = {
  chunkWords: 1 << 18,
  maxChunks: 16,
  indexSegments: 4,
  poolSlots: 64,
  slotMaxBytes: 1 << 24,
};

/** A machine in a fresh temporary directory; `close` stops it and removes the directory. */
export async function openTestMachine(partitions = 2): Promise<{ machine: Machine; close(): Promise<void> }> {
  const dir = await tempDir('epochgraph-analytics-');
  const machine = await Machine.open({ dataDir: dir.path, partitions, epochMs: 10, limits: TEST_LIMITS });
  return {
    machine,
    async close() {
      await machine.close();
      await dir.remove();
    },
  };
}

/** Edges as columns, with optional weights. */
export interface EdgeList {
  src: number[];
  dst: number[];
  weights: number[] | null;
}

/** Vertices (declared: line heads or `.v` lines) and edges of a Graphalytics graph. */
export interface GraphFiles {
  vertices: number[];
  edges: EdgeList;
}

function numbers(col: ArrayLike<ExternalId>): number[] {
  const out: number[] = [];
  for (let i = 0; i < col.length; i++) {
    const x = col[i];
    if (typeof x !== 'number') throw new Error(`fixture has a non-integer id ${x}`);
    out.push(x);
  }
  return out;
}

/** Read an adjacency-format file (`v n1 n2 ...`). */
export async function readAdjacencyFile(path: string): Promise<GraphFiles> {
  const vertices: number[] = [];
  const edges: EdgeList = { src: [], dst: [], weights: null };
  for await (const c of readAdjacency(path)) {
    if (c.vertices !== undefined) vertices.push(...numbers(c.vertices));
    edges.src.push(...numbers(c.src));
    edges.dst.push(...numbers(c.dst));
  }
  return { vertices, edges };
}

/** Read a `.v` / `.e` pair (weights when the edges have them). */
export async function readVertexEdgeFiles(vPath: string, ePath: string): Promise<GraphFiles> {
  const vertices: number[] = [];
  for await (const c of readVertexFile(vPath)) vertices.push(...numbers(c.vertices ?? []));
  const edges: EdgeList = { src: [], dst: [], weights: [] };
  let weighted = false;
  for await (const c of readEdgeList(ePath)) {
    edges.src.push(...numbers(c.src));
    edges.dst.push(...numbers(c.dst));
    if (c.weights !== undefined) {
      weighted = true;
      edges.weights?.push(...c.weights);
    } else for (let i = 0; i < c.src.length; i++) edges.weights?.push(Number.NaN);
  }
  if (!weighted) edges.weights = null;
  return { vertices, edges };
}

/**
 * Load a graph through `machine.submit`: the declared vertices as upsertVertex ops (so
 * isolated vertices exist), then the edges in the columnar bulk form, `edgeBatches` batches
 * (so the graph spans several epochs), weights as the edge property `weight`. Returns the
 * epoch of the last batch.
 */
export async function loadGraph(machine: Machine, graph: GraphFiles, edgeBatches = 2): Promise<number> {
  let epoch = (
    await machine.submit(decodeBatch({ ops: graph.vertices.map((id) => ({ op: 'upsertVertex', id })) }))
  ).epoch;
  const m = graph.edges.src.length;
  const step = Math.max(1, Math.ceil(m / edgeBatches));
  for (let i = 0; i < m; i += step) {
    const end = Math.min(m, i + step);
    const edges: Record<string, unknown> = {
      src: Float64Array.from(graph.edges.src.slice(i, end)),
      dst: Float64Array.from(graph.edges.dst.slice(i, end)),
    };
    if (graph.edges.weights !== null) {
      edges.props = { weight: Float64Array.from(graph.edges.weights.slice(i, end)) };
    }
    epoch = (await machine.submit(decodeBatch({ edges }))).epoch;
  }
  return epoch;
}

/** Graphalytics' "unreachable": Long.MAX_VALUE for BFS, `infinity` for SSSP. */
const isUnreachable = (text: string) => text === '9223372036854775807' || text.toLowerCase() === 'infinity';

/** The result as id → value, checking that the vertex sets agree. */
function byId(expected: Map<number, string>, r: AlgorithmResult, problems: string[]): Map<number, unknown> {
  const got = new Map<number, unknown>();
  r.ids.forEach((id, i) => {
    if (typeof id !== 'number') problems.push(`${String(id)}: not an integer id`);
    else got.set(id, r.values[i]);
  });
  if (got.size !== r.ids.length) problems.push('duplicate ids in the result');
  for (const id of expected.keys()) if (!got.has(id)) problems.push(`${id}: missing from the result`);
  for (const id of got.keys()) if (!expected.has(id)) problems.push(`${id}: not in the expected output`);
  return got;
}

/** Exact comparison (BFS, CDLP); unreachable must be null. */
export function compareExact(expected: Map<number, string>, r: AlgorithmResult): string[] {
  const problems: string[] = [];
  const got = byId(expected, r, problems);
  for (const [id, text] of expected) {
    if (!got.has(id)) continue;
    const want = isUnreachable(text) ? null : Number(text);
    if (got.get(id) !== want) problems.push(`${id}: expected ${text}, got ${String(got.get(id))}`);
  }
  return problems;
}

/** |expected - actual| <= 1e-4 * expected (PR, LCC, SSSP); unreachable must be null. */
export function compareRelative(
  expected: Map<number, string>,
  r: AlgorithmResult,
  tolerance = 1e-4,
): string[] {
  const problems: string[] = [];
  const got = byId(expected, r, problems);
  for (const [id, text] of expected) {
    if (!got.has(id)) continue;
    const v = got.get(id);
    const ok = isUnreachable(text)
      ? v === null
      : typeof v === 'number' && Math.abs(Number(text) - v) <= tolerance * Number(text);
    if (!ok) problems.push(`${id}: expected ${text}, got ${String(v)}`);
  }
  return problems;
}

/** WCC: the same partition of the vertices, whatever the label values. */
export function compareEquivalence(expected: Map<number, string>, r: AlgorithmResult): string[] {
  const problems: string[] = [];
  const got = byId(expected, r, problems);
  const forward = new Map<string, unknown>();
  const backward = new Map<unknown, string>();
  for (const [id, text] of expected) {
    if (!got.has(id)) continue;
    const label = got.get(id);
    const f = forward.get(text);
    const b = backward.get(label);
    if (f === undefined && b === undefined) {
      forward.set(text, label);
      backward.set(label, text);
    } else if (f !== label || b !== text) {
      problems.push(`${id}: expected component ${text}, got ${String(label)}, which does not match`);
    }
  }
  return problems;
}

/** A deterministic random directed graph: vertices 0..n-1 (all declared), m edges (no self-loops). */
export function randomGraph(n: number, m: number, seed = 1): GraphFiles {
  const next = rng(seed);
  const vertices = Array.from({ length: n }, (_, i) => i);
  const src: number[] = [];
  const dst: number[] = [];
  while (src.length < m) {
    const a = next(n);
    const b = next(n);
    if (a === b) continue;
    src.push(a);
    dst.push(b);
  }
  return { vertices, edges: { src, dst, weights: null } };
}
