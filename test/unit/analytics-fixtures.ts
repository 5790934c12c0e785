/**
 * Loading the LDBC Graphalytics validation graphs (/work/shared/graphalytics, or
 * $GRAPHALYTICS_DIR) and comparing results by the benchmark's rules.
 *
 * Vertex ids in the files are sparse, so every graph gets an id → index map. Indices are
 * assigned in *descending* id order on purpose: then index order and id order disagree, and a
 * kernel that broke a tie by index instead of by key (CDLP, WCC) would fail.
 */
import { type CsrGraph, csrFromEdges } from '../../src/analytics/index.js';
import { type IdColumn, readAdjacency, readEdgeList, readVertexFile } from '../../src/formats/graph-files.js';

export { fixture, GRAPHALYTICS_DIR, readExpected as loadExpected } from '../helpers/graphalytics-files.js';

/** BFS's "unreachable" in the expected files: Long.MAX_VALUE. */
export const BFS_UNREACHABLE = '9223372036854775807';

export interface LoadedGraph {
  g: CsrGraph;
  /** ids[v]: external id of index v. */
  ids: number[];
  index: Map<number, number>;
  /** keys[v] = ids[v], for CDLP and WCC. */
  keys: Float64Array;
}

function numbers(col: IdColumn): number[] {
  const out: number[] = [];
  for (const x of col) {
    if (typeof x !== 'number') throw new Error(`fixture has a non-integer id ${x}`);
    out.push(x);
  }
  return out;
}

function build(
  vertexIds: Iterable<number>,
  src: number[],
  dst: number[],
  weights: number[] | null,
): LoadedGraph {
  const ids = [...new Set(vertexIds)].sort((a, b) => b - a);
  const index = new Map(ids.map((id, v) => [id, v]));
  const s = Uint32Array.from(src, (id) => index.get(id)!);
  const d = Uint32Array.from(dst, (id) => index.get(id)!);
  const g = csrFromEdges(ids.length, s, d, weights === null ? undefined : Float64Array.from(weights));
  return { g, ids, index, keys: Float64Array.from(ids) };
}

/** A graph in the adjacency format; vertices are line heads and every neighbour mentioned. */
export async function loadAdjacency(path: string): Promise<LoadedGraph> {
  const vertices: number[] = [];
  const src: number[] = [];
  const dst: number[] = [];
  for await (const chunk of readAdjacency(path)) {
    if (chunk.vertices !== undefined) vertices.push(...numbers(chunk.vertices));
    src.push(...numbers(chunk.src));
    dst.push(...numbers(chunk.dst));
  }
  return build([...vertices, ...src, ...dst], src, dst, null);
}

/** A graph as a `.v` / `.e` pair, with weights when the edges have them. */
export async function loadVE(vPath: string, ePath: string): Promise<LoadedGraph> {
  const vertices: number[] = [];
  for await (const chunk of readVertexFile(vPath)) vertices.push(...numbers(chunk.vertices!));
  const src: number[] = [];
  const dst: number[] = [];
  const weights: number[] = [];
  let weighted = false;
  for await (const chunk of readEdgeList(ePath)) {
    src.push(...numbers(chunk.src));
    dst.push(...numbers(chunk.dst));
    if (chunk.weights !== undefined) {
      weighted = true;
      weights.push(...chunk.weights);
    } else for (let i = 0; i < chunk.src.length; i++) weights.push(Number.NaN);
  }
  return build([...vertices, ...src, ...dst], src, dst, weighted ? weights : null);
}

/** The vertex sets must agree: every expected id is in the graph and vice versa. */
function sameVertices(expected: Map<number, string>, graph: LoadedGraph): string[] {
  const problems: string[] = [];
  for (const id of expected.keys()) if (!graph.index.has(id)) problems.push(`${id}: not in the graph`);
  for (const id of graph.ids) if (!expected.has(id)) problems.push(`${id}: not in the expected output`);
  return problems;
}

/** Exact comparison (BFS, CDLP); `unreachable` is the text standing for Infinity. */
export function compareExact(
  expected: Map<number, string>,
  graph: LoadedGraph,
  actual: Float64Array,
  unreachable = BFS_UNREACHABLE,
): string[] {
  const problems = sameVertices(expected, graph);
  for (const [id, text] of expected) {
    const v = graph.index.get(id);
    if (v === undefined) continue;
    const want = text === unreachable ? Number.POSITIVE_INFINITY : Number(text);
    if (actual[v] !== want) problems.push(`${id}: expected ${text}, got ${actual[v]}`);
  }
  return problems;
}

/** |expected - actual| <= 1e-4 * expected (PR, LCC, SSSP); `infinity` in any case is Infinity. */
export function compareRelative(
  expected: Map<number, string>,
  graph: LoadedGraph,
  actual: Float64Array,
  tolerance = 1e-4,
): string[] {
  const problems = sameVertices(expected, graph);
  for (const [id, text] of expected) {
    const v = graph.index.get(id);
    if (v === undefined) continue;
    const want = text.toLowerCase() === 'infinity' ? Number.POSITIVE_INFINITY : Number(text);
    const got = actual[v];
    const ok = want === Number.POSITIVE_INFINITY ? got === want : Math.abs(want - got) <= tolerance * want;
    if (!ok) problems.push(`${id}: expected ${text}, got ${got}`);
  }
  return problems;
}

/** WCC: the same partition of the vertices, whatever the label values. */
export function compareEquivalence(
  expected: Map<number, string>,
  graph: LoadedGraph,
  actual: Float64Array,
): string[] {
  const problems = sameVertices(expected, graph);
  const forward = new Map<string, number>();
  const backward = new Map<number, string>();
  for (const [id, text] of expected) {
    const v = graph.index.get(id);
    if (v === undefined) continue;
    const got = actual[v];
    const f = forward.get(text);
    const b = backward.get(got);
    if (f === undefined && b === undefined) {
      forward.set(text, got);
      backward.set(got, text);
    } else if (f !== got || b !== text) {
      problems.push(`${id}: expected component ${text}, got ${got}, which does not match the partition`);
    }
  }
  return problems;
}
