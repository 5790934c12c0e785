/**
 * Storage engine benchmark (DESIGN §10), one thread, everything side by side in one run:
 *  - unique edge inserts in random order (both directions, id mapping and existence check),
 *    at ~1M vertices / 10M edges and at ~50M edges;
 *  - 10 PageRank iterations on the latest epoch vs a plain static u32 CSR built from the same
 *    snapshot, before (fresh) and after compaction;
 *  - adjacency memory vs that CSR, id-index bytes per vertex;
 *  - seal p99 with 5K updates per epoch at ~1M and ~50M edges, apply p99 of 5K-edge batches
 *    (after 20 warm-up epochs, whose worst seal is reported apart).
 */
import { PartitionReader, PartitionStore, type Snapshot } from '../src/storage/index.js';
import { degrees, vertexMask, vertexRows } from '../src/storage/kernels.js';
import { listSum, pullSum } from '../src/storage/pull-kernel.js';
import { inTurn, percentile, report, rng } from './report.js';

/** Edges per bulk batch, a seal after each. */
export const BATCH = 50_000;
const UPDATES_PER_EPOCH = 5_000;
const ROUNDS = 200;
/**
 * Epochs run before the measured ones: the first retention step after a bulk load reclaims
 * the load's versions, and the seals right after it run on cold caches. Their worst seal is
 * reported apart (sealWarmupMaxMs…), not hidden.
 */
export const WARMUP_ROUNDS = 20;

export interface Sizes {
  n: number;
  degree: number;
}

/** Unique random edges: each source gets `degree` distinct random targets; order shuffled. */
export function uniqueEdges({ n, degree }: Sizes, seed: number): { src: Uint32Array; dst: Uint32Array } {
  const r = rng(seed);
  const m = n * degree;
  const src = new Uint32Array(m);
  const dst = new Uint32Array(m);
  const picked = new Uint32Array(degree);
  let k = 0;
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < degree; j++) {
      let d: number;
      let dup: boolean;
      do {
        d = r(n);
        dup = d === s;
        for (let q = 0; q < j && !dup; q++) dup = picked[q] === d;
      } while (dup);
      picked[j] = d;
      src[k] = s;
      dst[k] = d;
      k++;
    }
  }
  for (let i = m - 1; i > 0; i--) {
    const j = r(i + 1);
    const ts = src[i];
    src[i] = src[j];
    src[j] = ts;
    const td = dst[i];
    dst[i] = dst[j];
    dst[j] = td;
  }
  // Sparse, non-sequential external ids (still below 2^32).
  for (let i = 0; i < m; i++) {
    src[i] = idOf(src[i]);
    dst[i] = idOf(dst[i]);
  }
  return { src, dst };
}

function idOf(i: number): number {
  return (Math.imul(i, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
}

/** What an insert load drives: a batch of edges applied, then a seal. */
export interface EdgeLoader {
  apply(src: Uint32Array, dst: Uint32Array): void;
  seal(): void;
}

/** A store as an EdgeLoader: each batch in the columnar bulk form. */
export function storeLoader(store: PartitionStore): EdgeLoader {
  return {
    apply: (src, dst) => {
      store.apply({ ops: [], edges: { src, dst } });
    },
    seal: () => {
      store.seal();
    },
  };
}

/** Insert rate with a seal after every BATCH edges (as in service), and apply time alone. */
export function load(
  loader: EdgeLoader,
  edges: { src: Uint32Array; dst: Uint32Array },
): { withSeals: number; applyOnly: number } {
  const m = edges.src.length;
  let applyMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < m; i += BATCH) {
    const end = Math.min(m, i + BATCH);
    const a = performance.now();
    loader.apply(edges.src.subarray(i, end), edges.dst.subarray(i, end));
    applyMs += performance.now() - a;
    loader.seal();
  }
  return { withSeals: m / ((performance.now() - t0) / 1000), applyOnly: m / (applyMs / 1000) };
}

export function randomUpdates(n: number, r: (n: number) => number): { src: Uint32Array; dst: Uint32Array } {
  const src = new Uint32Array(UPDATES_PER_EPOCH);
  const dst = new Uint32Array(UPDATES_PER_EPOCH);
  for (let i = 0; i < UPDATES_PER_EPOCH; i++) {
    src[i] = idOf(r(n));
    dst[i] = idOf(r(n));
  }
  return { src, dst };
}

/** Epochs kept by the update rounds' retention. */
const RETAINED_EPOCHS = 20;

/** One update epoch: apply `u`, seal, retain the last RETAINED_EPOCHS epochs; ms of each step. */
export function updateEpoch(store: PartitionStore, u: { src: Uint32Array; dst: Uint32Array }) {
  const t0 = performance.now();
  store.apply({ ops: [], edges: u });
  const t1 = performance.now();
  store.seal();
  const t2 = performance.now();
  store.retain(store.published - RETAINED_EPOCHS);
  return { apply: t1 - t0, seal: t2 - t1, retain: performance.now() - t2 };
}

/** p99 seal and apply times of 5K-update epochs (after WARMUP_ROUNDS), and the warm-up's worst seal. */
function sealAndApply(
  store: PartitionStore,
  n: number,
  seed: number,
): { seal: number; apply: number; warmupMaxSeal: number } {
  const r = rng(seed);
  const seals: number[] = [];
  const applies: number[] = [];
  let warmupMaxSeal = 0;
  for (let k = 0; k < WARMUP_ROUNDS + ROUNDS; k++) {
    const t = updateEpoch(store, randomUpdates(n, r));
    if (k < WARMUP_ROUNDS) warmupMaxSeal = Math.max(warmupMaxSeal, t.seal);
    else {
      applies.push(t.apply);
      seals.push(t.seal);
    }
  }
  return { seal: percentile(seals, 99), apply: percentile(applies, 99), warmupMaxSeal };
}

/** PageRank (Graphalytics formula) with a given pull step; returns seconds for `iters`. */
function pagerank(
  n: number,
  outdeg: Float64Array,
  iters: number,
  pull: (x: Float64Array, out: Float64Array) => void,
) {
  const d = 0.85;
  let rank = new Float64Array(n).fill(1 / n);
  let next = new Float64Array(n);
  const contrib = new Float64Array(n);
  const t0 = performance.now();
  for (let it = 0; it < iters; it++) {
    let dangling = 0;
    for (let v = 0; v < n; v++) {
      const od = outdeg[v];
      if (od === 0) {
        dangling += rank[v];
        contrib[v] = 0;
      } else contrib[v] = rank[v] / od;
    }
    // Both pulls assign every row (every local id is a vertex here), so no fill first.
    pull(contrib, next);
    const base = (1 - d) / n + (d * dangling) / n;
    for (let v = 0; v < n; v++) next[v] = base + d * next[v];
    const t = rank;
    rank = next;
    next = t;
  }
  return { seconds: (performance.now() - t0) / 1000, rank };
}

function pagerankRatio(snap: Snapshot): { ratio: number; edgesPerSecPerIter: number; maxDiff: number } {
  const mask = vertexMask(snap);
  const rows = vertexRows(snap, mask);
  const n = mask.length;
  const outdeg = new Float64Array(n);
  degrees(snap, 'out', -1, rows, outdeg);
  const csr = snap.csr('in');
  // Static CSR indexed by local id (P = 1: every local id is a vertex row).
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < csr.lids.length; i++) offsets[csr.lids[i] + 1] = csr.offsets[i + 1] - csr.offsets[i];
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v];
  const nbrs = csr.neighbors;
  const csrPull = (x: Float64Array, out: Float64Array) => csrPullSum(n, offsets, nbrs, x, out);
  const storePull = (x: Float64Array, out: Float64Array) => pullSum(snap, 'in', -1, rows, x, out, true);
  const iters = 10;
  let bestStore = Number.POSITIVE_INFINITY;
  const ratios: number[] = [];
  let maxDiff = 0;
  for (let rep = 0; rep < 9; rep++) {
    // The store first in even pairs, second in odd ones.
    const [a, b] = inTurn(
      rep % 2 === 0,
      () => pagerank(n, outdeg, iters, storePull),
      () => pagerank(n, outdeg, iters, csrPull),
    );
    bestStore = Math.min(bestStore, a.seconds);
    ratios.push(a.seconds / b.seconds);
    for (let v = 0; v < n; v++) maxDiff = Math.max(maxDiff, Math.abs(a.rank[v] - b.rank[v]));
  }
  // The median of back-to-back pairs: this VM's memory speed drifts by 2-3x over seconds, so
  // each store run is compared with the CSR run next to it, not with the CSR's best moment.
  return { ratio: percentile(ratios, 50), edgesPerSecPerIter: (nbrs.length * iters) / bestStore, maxDiff };
}

/**
 * The static-CSR baseline: a plain top-level loop over u32 offsets and neighbours, each row
 * summed by the same listSum as the store's pull (loads unrolled by 4), so the ratio compares
 * layouts, not loop shapes.
 */
function csrPullSum(
  n: number,
  offsets: Uint32Array,
  nbrs: Uint32Array,
  x: Float64Array,
  out: Float64Array,
): void {
  for (let v = 0; v < n; v++) out[v] = listSum(x, nbrs, offsets[v], offsets[v + 1]);
}

function memory(store: PartitionStore, snap: Snapshot) {
  const s = store.stats();
  const m = snap.csr('out').neighbors.length;
  const n = s.vertices;
  const csrBytes = 2 * (4 * (n + 1) + 4 * m);
  const adjacency =
    s.adjacency.extentBytes + s.adjacency.recordBytes + s.adjacency.bloomBytes + s.stampBytes + s.nodeBytes;
  return {
    memoryRatio: adjacency / csrBytes,
    idIndexBytesPerVertex: (s.idIndexBytes + s.externalKeyBytes) / s.localIds,
    idHashBytesPerVertex: s.idIndexBytes / s.localIds,
  };
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, number>> {
  const small: Sizes = quick ? { n: 100_000, degree: 10 } : { n: 1_000_000, degree: 10 };
  const large: Sizes = quick ? { n: 500_000, degree: 10 } : { n: 5_000_000, degree: 10 };

  // --- ~1M vertices / 10M edges --------------------------------------------------------
  let edges = uniqueEdges(small, 1);
  const store = PartitionStore.create();
  const inserted = load(storeLoader(store), edges);
  const insertEdgesPerSec = inserted.withSeals;
  edges = { src: new Uint32Array(0), dst: new Uint32Array(0) };
  const reader = new PartitionReader(store.descriptor);
  const fresh = reader.read(undefined, pagerankRatio);
  const sealSmall = sealAndApply(store, small.n, 7);
  store.compactAll();
  store.seal();
  store.retain(store.published);
  store.retain(store.published);
  const compacted = reader.read(undefined, pagerankRatio);
  const mem = reader.read(undefined, (snap) => memory(store, snap));

  // --- ~50M edges ----------------------------------------------------------------------
  let big = uniqueEdges(large, 2);
  const bigStore = PartitionStore.create();
  const insertedLarge = load(storeLoader(bigStore), big);
  const insertEdgesPerSecLarge = insertedLarge.withSeals;
  big = { src: new Uint32Array(0), dst: new Uint32Array(0) };
  const sealLarge = sealAndApply(bigStore, large.n, 9);

  const rows = [
    {
      metric: 'insertEdgesPerSec',
      value: insertEdgesPerSec,
      unit: 'edges/s',
      target: '≥ 2M',
      ok: insertEdgesPerSec >= 2e6,
    },
    {
      metric: 'insertEdgesPerSecLarge',
      value: insertEdgesPerSecLarge,
      unit: 'edges/s',
      target: '≥ 1.2M',
      ok: insertEdgesPerSecLarge >= 1.2e6,
    },
    { metric: 'insertApplyOnlyEdgesPerSec', value: inserted.applyOnly, unit: 'edges/s' },
    { metric: 'insertApplyOnlyEdgesPerSecLarge', value: insertedLarge.applyOnly, unit: 'edges/s' },
    { metric: 'pagerankRatioFresh', value: fresh.ratio, unit: 'x CSR', target: '≤ 3', ok: fresh.ratio <= 3 },
    {
      metric: 'pagerankRatioCompacted',
      value: compacted.ratio,
      unit: 'x CSR',
      target: '≤ 1.15',
      ok: compacted.ratio <= 1.15,
    },
    { metric: 'pagerankEdgesPerSecPerIter', value: compacted.edgesPerSecPerIter, unit: 'edges/s' },
    { metric: 'pagerankMaxAbsDiff', value: Math.max(fresh.maxDiff, compacted.maxDiff) },
    {
      metric: 'memoryRatio',
      value: mem.memoryRatio,
      unit: 'x CSR',
      target: '≤ 1.6',
      ok: mem.memoryRatio <= 1.6,
    },
    {
      metric: 'idIndexBytesPerVertex',
      value: mem.idIndexBytesPerVertex,
      unit: 'B',
      target: '≤ 24',
      ok: mem.idIndexBytesPerVertex <= 24,
    },
    { metric: 'idHashBytesPerVertex', value: mem.idHashBytesPerVertex, unit: 'B' },
    { metric: 'sealP99MsSmall', value: sealSmall.seal, unit: 'ms', target: '≤ 2', ok: sealSmall.seal <= 2 },
    { metric: 'sealP99MsLarge', value: sealLarge.seal, unit: 'ms', target: '≤ 2', ok: sealLarge.seal <= 2 },
    {
      metric: 'sealRatioLargeSmall',
      value: sealLarge.seal / sealSmall.seal,
      target: '≤ 1.5',
      ok: sealLarge.seal / sealSmall.seal <= 1.5,
    },
    { metric: 'sealWarmupMaxMsSmall', value: sealSmall.warmupMaxSeal, unit: 'ms' },
    { metric: 'sealWarmupMaxMsLarge', value: sealLarge.warmupMaxSeal, unit: 'ms' },
    { metric: 'applyP99MsSmall', value: sealSmall.apply, unit: 'ms' },
    {
      metric: 'applyP99MsLarge',
      value: sealLarge.apply,
      unit: 'ms',
      target: '≤ 10',
      ok: sealLarge.apply <= 10,
    },
    { metric: 'verticesSmall', value: small.n },
    { metric: 'edgesSmall', value: small.n * small.degree },
    { metric: 'edgesLarge', value: large.n * large.degree },
  ];
  return report('storage', rows, { quick: quick ? 1 : 0 });
}
