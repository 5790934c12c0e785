/**
 * Analytics kernels on a synthetic power-law graph: an R-MAT graph (Graph500 parameters
 * a=0.57, b=c=0.19, d=0.05, vertex ids scrambled by a random permutation) with ~1 M vertices
 * and 10 M edges (`quick`: 100 K / 1 M), uniform weights in [0, 1).
 *
 * Reported: build times (CSR, undirected view), PageRank edges per second per iteration, and
 * the times of BFS, WCC, CDLP, LCC, SSSP and top-k. Two baselines run in the same process on
 * the same arrays, because absolute times on a shared machine are noise:
 * - `gather`: one pass of `sum += x[inTargets[i]]` over all edges (each row summed by
 *   listSum, as PageRank's rows are), the memory-bound floor of a pull PageRank iteration;
 *   `pagerankOverGather` is how close the kernel comes to it;
 * - a plain top-down BFS from the same source; `bfsSpeedupOverTopDown` is what direction
 *   optimisation buys.
 *
 * Run: `node dist/bench/analytics-kernels.js [--quick]` after `npm run build`, or through the
 * bench runner.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  bfs,
  type CsrGraph,
  cdlp,
  csrFromEdges,
  lcc,
  pagerank,
  sssp,
  topK,
  undirectedView,
  wcc,
} from '../src/analytics/index.js';
import { listSum } from '../src/storage/pull-kernel.js';

const PR_ITERATIONS = 10;

/** xoshiro128** in 32-bit arithmetic: fast, seedable, good enough for graph generation. */
function makeRandom(seed: number): () => number {
  let s0 = seed >>> 0 || 1;
  let s1 = 0x9e3779b9;
  let s2 = 0x85ebca6b;
  let s3 = 0xc2b2ae35;
  return () => {
    // One step, returning a float in [0, 1).
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** R-MAT edges over 2^scale vertices, endpoints scrambled by a random permutation. */
function rmat(scale: number, m: number, seed: number): { n: number; src: Uint32Array; dst: Uint32Array } {
  const rand = makeRandom(seed);
  const n = 2 ** scale;
  const src = new Uint32Array(m);
  const dst = new Uint32Array(m);
  const a = 0.57;
  const ab = 0.76;
  const abc = 0.95;
  for (let e = 0; e < m; e++) {
    let u = 0;
    let v = 0;
    for (let bit = 0; bit < scale; bit++) {
      const r = rand();
      u <<= 1;
      v <<= 1;
      if (r < a) continue;
      if (r < ab) v |= 1;
      else if (r < abc) u |= 1;
      else {
        u |= 1;
        v |= 1;
      }
    }
    src[e] = u >>> 0;
    dst[e] = v >>> 0;
  }
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (let e = 0; e < m; e++) {
    src[e] = perm[src[e]];
    dst[e] = perm[dst[e]];
  }
  return { n, src, dst };
}

/**
 * Median wall time in ms of `reps` runs, after one unmeasured warm-up run when reps > 1 (the
 * first calls of a kernel run before V8 has optimised it, and can take several times longer).
 */
function time<T>(reps: number, fn: () => T): { ms: number; value: T } {
  let value = fn();
  if (reps <= 1) {
    const t0 = performance.now();
    value = fn();
    return { ms: performance.now() - t0, value };
  }
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    value = fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], value };
}

/**
 * The memory-bound floor of one pull iteration: a gather over every in-edge, each row summed
 * by the same unrolled loop as PageRank's (listSum), so the ratio is PageRank's other work.
 */
function gather(g: CsrGraph, x: Float64Array, out: Float64Array): void {
  const { n, inOffsets, inTargets } = g;
  for (let v = 0; v < n; v++) out[v] = listSum(x, inTargets, inOffsets[v], inOffsets[v + 1]);
}

/** Baseline BFS: top-down only, a queue in a typed array. */
function topDownBfs(g: CsrGraph, source: number): Float64Array {
  const dist = new Float64Array(g.n).fill(Number.POSITIVE_INFINITY);
  const queue = new Uint32Array(g.n);
  let head = 0;
  let tail = 0;
  queue[tail++] = source;
  dist[source] = 0;
  while (head < tail) {
    const u = queue[head++];
    const end = g.outOffsets[u + 1];
    for (let i = g.outOffsets[u]; i < end; i++) {
      const v = g.outTargets[i];
      if (dist[v] === Number.POSITIVE_INFINITY) {
        dist[v] = dist[u] + 1;
        queue[tail++] = v;
      }
    }
  }
  return dist;
}

function reached(dist: Float64Array): number {
  let k = 0;
  for (let v = 0; v < dist.length; v++) if (dist[v] !== Number.POSITIVE_INFINITY) k++;
  return k;
}

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Runs the analytics kernel benchmark; returns the figures written to bench/results/analytics-kernels.json. */
export async function run(opts: { quick: boolean }): Promise<Record<string, number>> {
  const scale = opts.quick ? 17 : 20;
  const m = opts.quick ? 1_000_000 : 10_000_000;
  const reps = 5;

  const genStart = performance.now();
  const { n, src, dst } = rmat(scale, m, 42);
  const weightRand = makeRandom(7);
  const weights = new Float64Array(m);
  for (let e = 0; e < m; e++) weights[e] = weightRand();
  const generateMs = performance.now() - genStart;

  const build = time(3, () => csrFromEdges(n, src, dst, weights));
  const g = build.value;
  const view = time(3, () => undirectedView(g));
  const u = view.value;

  // Source: the vertex of largest out-degree, so the search reaches the giant component.
  let source = 0;
  for (let v = 1; v < n; v++) {
    if (g.outOffsets[v + 1] - g.outOffsets[v] > g.outOffsets[source + 1] - g.outOffsets[source]) source = v;
  }

  const x = new Float64Array(n).fill(1 / n);
  const sink = new Float64Array(n);
  const gatherT = time(reps, () => gather(g, x, sink));
  const pr = time(reps, () => pagerank(g, PR_ITERATIONS, 0.85));
  const prPerIterMs = pr.ms / PR_ITERATIONS;

  const bfsOut = time(reps, () => bfs(g, source, 'out'));
  const bfsTopDown = time(reps, () => topDownBfs(g, source));
  const bfsBoth = time(reps, () => bfs(g, source, 'both'));
  const bfsUndirected = time(reps, () => bfs(u, source, 'out'));
  const wccT = time(reps, () => wcc(g));
  const cdlpT = time(1, () => cdlp(g, 10));
  const cdlpUndirected = time(1, () => cdlp(u, 10));
  const lccT = time(1, () => lcc(g));
  const lccUndirected = time(1, () => lcc(u));
  const ssspT = time(1, () => sssp(g, source));
  const top = time(reps, () => topK(pr.value, 100, 'desc'));

  let components = 0;
  for (let v = 0; v < n; v++) if (wccT.value[v] === v) components++;

  const results: Record<string, number> = {
    vertices: n,
    edges: m,
    undirectedViewEntries: u.outTargets.length,
    generateMs: round(generateMs, 1),
    csrBuildMs: round(build.ms, 1),
    csrBuildEdgesPerSec: Math.round(m / (build.ms / 1000)),
    undirectedViewMs: round(view.ms, 1),
    gatherMs: round(gatherT.ms, 2),
    pagerankIterMs: round(prPerIterMs, 2),
    pagerankEdgesPerSecPerIter: Math.round(m / (prPerIterMs / 1000)),
    pagerankOverGather: round(prPerIterMs / gatherT.ms),
    bfsOutMs: round(bfsOut.ms, 2),
    bfsTopDownBaselineMs: round(bfsTopDown.ms, 2),
    bfsSpeedupOverTopDown: round(bfsTopDown.ms / bfsOut.ms),
    bfsReached: reached(bfsOut.value),
    bfsBothMs: round(bfsBoth.ms, 2),
    bfsUndirectedViewMs: round(bfsUndirected.ms, 2),
    wccMs: round(wccT.ms, 1),
    wccComponents: components,
    cdlp10IterMs: round(cdlpT.ms, 1),
    cdlp10IterUndirectedMs: round(cdlpUndirected.ms, 1),
    lccDirectedMs: round(lccT.ms, 1),
    lccUndirectedMs: round(lccUndirected.ms, 1),
    ssspMs: round(ssspT.ms, 1),
    ssspReached: reached(ssspT.value),
    top100Ms: round(top.ms, 2),
  };
  printTable(results, opts.quick);
  await mkdir(join(process.cwd(), 'bench', 'results'), { recursive: true });
  await writeFile(
    join(process.cwd(), 'bench', 'results', 'analytics-kernels.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  return results;
}

function printTable(results: Record<string, number>, quick: boolean): void {
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  console.log(`analytics kernels on an R-MAT graph${quick ? ' (quick)' : ''}`);
  for (const [k, v] of Object.entries(results))
    console.log(`  ${k.padEnd(width)}  ${String(v).padStart(14)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run({ quick: process.argv.includes('--quick') });
}
