/**
 * How close the store's bulk insert is to what this machine allows, side by side in one run:
 * the storage bench's load (1M vertices / 10M unique edges in random order, both directions,
 * a seal every 50K edges) through three minimal models and through the store.
 *
 * - `floor`: the least work an insert needs. Two id lookups (linear probing, key and local id
 *   side by side), the existence check on the shorter list, and two appends to per-vertex
 *   power-of-two blocks (16 entries first, doubled when full), with each group of 128 edges'
 *   slots, list states and block tails loaded ahead of the work, as the store does. A seal
 *   only advances the epoch: readers could not see any epoch but the newest.
 * - `stamps`: the floor plus an epoch stamp per entry, kept in the block's second half. A
 *   reader would count an entry at epoch e if its stamp is ≤ e, so a seal still only advances
 *   the epoch and every epoch stays readable.
 * - `versioned`: the floor plus the per-vertex (epoch, count) publication of GART and of the
 *   store: each list changed in an epoch gets, at the seal, its record rewritten and a version
 *   node for the count it replaces, with the records loaded 512 ahead.
 * - `store`: PartitionStore, as the storage bench measures it.
 *
 * The models keep no vertex table, no Bloom filters, no ownership, and bump-allocate their
 * blocks: they bound what the store could reach with each design, they are not stores. They
 * live here, not in src/, and nothing else uses them.
 *
 * Run: `npm run bench -- insert-floor` (BENCH_QUICK=1: 200K vertices; FLOOR_VERTICES=5000000:
 * 50M edges, ~8 minutes, with `node --max-old-space-size=20000`).
 */
import { PartitionStore } from '../src/storage/index.js';
import { report } from './report.js';
import { BATCH, type EdgeLoader, load, storeLoader, uniqueEdges } from './storage.js';

/** Edges per touch-ahead group (the store's BULK_GROUP). */
const GROUP = 128;
/** Records the versioned seal loads ahead of its work (the store's TOUCH_WINDOW). */
const SEAL_WINDOW = 512;
const FIRST_CLASS = 4;
/** Words per list state: [head, length, size class, epoch last changed]. */
const WS = 4;
/** Words per record [head, count, node], and per version node [epoch, head, count, prev]. */
const REC = 3;
const NODE = 4;

type Model = 'floor' | 'stamps' | 'versioned';

function mix(k: number): number {
  let h = Math.imul(k, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** One of the minimal models, sized for n vertices and m edges. */
class MinimalStore implements EdgeLoader {
  private readonly stamps: boolean;
  private readonly versioned: boolean;
  private readonly mask: number;
  /** [key, local id + 1] per slot (0: empty). */
  private readonly slots: Uint32Array;
  private lids = 0;
  /** List states: out lists at [0, n), in lists at [n, 2n). */
  private readonly ws: Uint32Array;
  private readonly arena: Uint32Array;
  private top = 16;
  private readonly free: number[][] = [];
  private epoch = 1;
  private readonly sl = new Uint32Array(BATCH);
  private readonly dl = new Uint32Array(BATCH);
  /** versioned: records, the lists changed in the open epoch, version nodes. */
  private readonly rec: Uint32Array;
  private readonly dirty = new Uint32Array(2 * BATCH);
  private dirtyCount = 0;
  private nodes = new Uint32Array(0);
  private nodeAt = 0;
  /**
   * Every filled node chunk, never read: the load retains every epoch, so its versions stay
   * in memory (and in the cache's way) as the store's do.
   */
  private readonly retainedNodes: Uint32Array[] = [];
  sink = 0;

  constructor(
    model: Model,
    private readonly n: number,
    m: number,
  ) {
    this.stamps = model === 'stamps';
    this.versioned = model === 'versioned';
    let cap = 1024;
    while (n > 0.8 * cap) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Uint32Array(2 * cap);
    this.ws = new Uint32Array(2 * n * WS);
    // Both directions, doubling slack, and the stamps' half.
    this.arena = new Uint32Array(8 * m + (1 << 20));
    for (let c = 0; c < 32; c++) this.free.push([]);
    this.rec = new Uint32Array(this.versioned ? 2 * n * REC : 0);
  }

  private lid(k: number): number {
    const slots = this.slots;
    for (let i = mix(k) & this.mask; ; i = (i + 1) & this.mask) {
      const id = slots[2 * i + 1];
      if (id === 0) {
        slots[2 * i] = k;
        slots[2 * i + 1] = ++this.lids;
        return this.lids - 1;
      }
      if (slots[2 * i] === k) return id - 1;
    }
  }

  private has(list: number, target: number): boolean {
    const ws = this.ws;
    const head = ws[list * WS];
    const end = head + ws[list * WS + 1];
    for (let i = head; i < end; i++) if (this.arena[i] === target) return true;
    return false;
  }

  private append(list: number, target: number): void {
    const ws = this.ws;
    const arena = this.arena;
    const wi = list * WS;
    let head = ws[wi];
    const len = ws[wi + 1];
    let cls = ws[wi + 2];
    if (head === 0 || len === 1 << cls) {
      const next = head === 0 ? FIRST_CLASS : cls + 1;
      const words = this.stamps ? 2 << next : 1 << next;
      const at = this.free[next].pop() ?? this.top;
      if (at === this.top) this.top += words;
      if (head !== 0) {
        arena.copyWithin(at, head, head + len);
        if (this.stamps) arena.copyWithin(at + (1 << next), head + (1 << cls), head + (1 << cls) + len);
        this.free[cls].push(head);
      }
      head = at;
      cls = next;
      ws[wi] = head;
      ws[wi + 2] = cls;
    }
    arena[head + len] = target;
    if (this.stamps) arena[head + (1 << cls) + len] = this.epoch;
    ws[wi + 1] = len + 1;
    if (this.versioned && ws[wi + 3] !== this.epoch) {
      ws[wi + 3] = this.epoch;
      this.dirty[this.dirtyCount++] = list;
    }
  }

  apply(src: Uint32Array, dst: Uint32Array): void {
    const { sl, dl, ws, arena, slots, mask, n } = this;
    const count = src.length;
    let sink = this.sink;
    for (let g = 0; g < count; g += GROUP) {
      const end = Math.min(count, g + GROUP);
      for (let i = g; i < end; i++)
        sink = (sink + slots[2 * (mix(src[i]) & mask)] + slots[2 * (mix(dst[i]) & mask)]) & 0xffffff;
      for (let i = g; i < end; i++) {
        sl[i] = this.lid(src[i]);
        dl[i] = this.lid(dst[i]);
      }
    }
    for (let g = 0; g < count; g += GROUP) {
      const end = Math.min(count, g + GROUP);
      for (let i = g; i < end; i++) sink = (sink + ws[sl[i] * WS + 1] + ws[(n + dl[i]) * WS + 1]) & 0xffffff;
      for (let i = g; i < end; i++) {
        const o = sl[i] * WS;
        const p = (n + dl[i]) * WS;
        sink = (sink + arena[ws[o] + ws[o + 1]] + arena[ws[p] + ws[p + 1]]) & 0xffffff;
      }
      for (let i = g; i < end; i++) {
        const s = sl[i];
        const d = dl[i];
        const exists = ws[(n + d) * WS + 1] < ws[s * WS + 1] ? this.has(n + d, s) : this.has(s, d);
        if (exists) continue;
        this.append(s, d);
        this.append(n + d, s);
      }
    }
    this.sink = sink;
  }

  seal(): void {
    if (this.versioned) this.publish();
    this.epoch++;
  }

  /** Each changed list's record rewritten, the version it replaces kept in a node. */
  private publish(): void {
    const { dirty, rec, ws } = this;
    const count = this.dirtyCount;
    let sink = this.sink;
    for (let g = 0; g < count; g += SEAL_WINDOW) {
      const end = Math.min(count, g + SEAL_WINDOW);
      for (let i = g; i < end; i++) sink = (sink + rec[dirty[i] * REC]) & 0xffffff;
      for (let i = g; i < end; i++) {
        const list = dirty[i];
        const ri = list * REC;
        if (this.nodeAt + NODE > this.nodes.length) {
          this.nodes = new Uint32Array(1 << 20);
          this.retainedNodes.push(this.nodes);
          this.nodeAt = 0;
        }
        const at = this.nodeAt;
        this.nodes[at] = this.epoch;
        this.nodes[at + 1] = rec[ri];
        this.nodes[at + 2] = rec[ri + 1];
        this.nodes[at + 3] = rec[ri + 2];
        rec[ri] = ws[list * WS];
        rec[ri + 1] = ws[list * WS + 1];
        rec[ri + 2] = at; // (an offset in its chunk: the model never follows it)
        this.nodeAt = at + NODE;
      }
    }
    this.dirtyCount = 0;
    this.sink = sink;
  }
}

/** FLOOR_VERTICES (default 1M): 5000000 gives the storage bench's 50M-edge size. */
function vertices(v: string | undefined): number {
  if (v === undefined || v === '') return 1_000_000;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1000 || n > 20_000_000)
    throw new Error(`FLOOR_VERTICES must be an integer in [1000, 20000000], not "${v}"`);
  return n;
}

export async function run({ quick }: { quick: boolean }): Promise<Record<string, number>> {
  const n = quick ? 200_000 : vertices(process.env.FLOOR_VERTICES);
  const edges = uniqueEdges({ n, degree: 10 }, 7);
  const m = edges.src.length;
  const arms: Record<string, () => EdgeLoader> = {
    floor: () => new MinimalStore('floor', n, m),
    stamps: () => new MinimalStore('stamps', n, m),
    versioned: () => new MinimalStore('versioned', n, m),
    store: () => storeLoader(PartitionStore.create()),
  };
  const names = Object.keys(arms);
  const rate: Record<string, number[]> = {};
  const applyRate: Record<string, number[]> = {};
  // Two rounds, the second in reverse order (a process's later loads run a little faster).
  for (const order of [names, [...names].reverse()]) {
    for (const name of order) {
      const { withSeals, applyOnly } = load(arms[name](), edges);
      (rate[name] ??= []).push(withSeals);
      (applyRate[name] ??= []).push(applyOnly);
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const r = Object.fromEntries(names.map((k) => [k, mean(rate[k])]));
  const a = Object.fromEntries(names.map((k) => [k, mean(applyRate[k])]));
  return report('insert-floor', [
    { metric: 'floorEdgesPerSec', value: r.floor, unit: 'edges/s' },
    { metric: 'stampsEdgesPerSec', value: r.stamps, unit: 'edges/s' },
    { metric: 'versionedEdgesPerSec', value: r.versioned, unit: 'edges/s' },
    { metric: 'versionedApplyOnlyEdgesPerSec', value: a.versioned, unit: 'edges/s' },
    { metric: 'storeEdgesPerSec', value: r.store, unit: 'edges/s' },
    { metric: 'storeApplyOnlyEdgesPerSec', value: a.store, unit: 'edges/s' },
    { metric: 'stampsToFloor', value: r.stamps / r.floor },
    { metric: 'versionedToFloor', value: r.versioned / r.floor },
    { metric: 'storeToVersioned', value: r.store / r.versioned },
    { metric: 'storeToStamps', value: r.store / r.stamps },
  ]);
}
