/**
 * Idle compaction: after a bulk load stops, the machine seals a few epochs that only compact,
 * until what is left fragmented is below the threshold, then seals nothing more. Those epochs
 * hold the same graph, a small write afterwards adds no compaction epoch, and their numbers
 * survive a restart (never reused).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Machine, type SealEvent } from '../../partitions/machine.js';
import { decodeBatch } from '../../src/model/ops.js';
import type { GraphSnapshot } from '../../src/storage/graph-snapshot.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 20, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const MIN = 2000;
const VERTICES = 50_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every vertex's out and in neighbours, sorted (a compaction must not change any of them). */
function lists(s: GraphSnapshot): string[] {
  const out: string[] = [];
  for (let v = 0; v < VERTICES; v++) {
    for (const direction of ['out', 'in'] as const) {
      const r = s.neighbors(v, { direction });
      out.push(r === null ? '-' : [...r.neighbors].sort((a, b) => Number(a) - Number(b)).join(','));
    }
  }
  return out;
}

async function settle(m: Machine): Promise<number> {
  // Wait until the latest epoch stops moving for a while.
  let last = m.latestEpoch;
  let still = 0;
  for (let i = 0; i < 500 && still < 20; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (m.latestEpoch === last) still++;
    else {
      last = m.latestEpoch;
      still = 0;
    }
  }
  return last;
}

/**
 * Wait (up to 20 s) until a seal after epoch `after` leaves every partition below MIN, so a
 * slow first compaction epoch (a loaded CI machine) is not mistaken for none.
 */
async function compactedAfter(events: SealEvent[], after: number): Promise<void> {
  const done = () =>
    events.some((e) => e.epoch > after && e.partitions.every((p) => p.uncompactedEntries < MIN));
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('idle compaction', () => {
  it('compacts a loaded graph in a few epochs that change nothing, then stops', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const open = () =>
      Machine.open({ dataDir: dir.path, partitions: 2, epochMs: 10, idleCompactMin: MIN, limits: LIMITS });
    const m = await open();
    const events: SealEvent[] = [];
    m.onSeal((e) => events.push(e));
    let seed = 11;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let loaded = 0;
    // More than one seal's ride-along compaction budget (2^18 entries per partition) can cover.
    for (let b = 0; b < 3; b++) {
      const n = 300_000;
      const src = new Float64Array(n);
      const dst = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        src[i] = rand(VERTICES);
        dst[i] = rand(VERTICES);
      }
      loaded = (await m.submit(decodeBatch({ edges: { src, dst } }))).epoch;
    }
    const before = m.snapshot(loaded);
    const want = lists(before);
    before.close();

    await compactedAfter(events, loaded);
    const settled = await settle(m);
    const after = events.filter((e) => e.epoch > loaded);
    // Compaction epochs followed the load, and they stopped once little was left.
    expect(settled).toBeGreaterThan(loaded);
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBe(settled - loaded);
    const first = events.find((e) => e.epoch === loaded) as SealEvent;
    const fragmentedAtLoad = Math.max(...first.partitions.map((p) => p.uncompactedEntries));
    expect(fragmentedAtLoad).toBeGreaterThanOrEqual(MIN);
    const last = after[after.length - 1];
    for (const p of last.partitions) expect(p.uncompactedEntries).toBeLessThan(MIN);
    // The same graph at every compaction epoch, edge counts included.
    for (const e of after) {
      expect(e.partitions.map((p) => p.edges)).toEqual(first.partitions.map((p) => p.edges));
    }
    const now = m.snapshot(settled);
    expect(lists(now)).toEqual(want);
    now.close();

    // A small write is one epoch, with no compaction epoch after it.
    const small = await m.submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] }));
    expect(small.epoch).toBe(settled + 1);
    expect(await settle(m)).toBe(small.epoch);
    await m.close();

    // After a restart the numbering continues past every epoch, compaction ones included.
    const again = await open();
    cleanups.push(() => again.close());
    expect(again.latestEpoch).toBe(small.epoch);
    const next = await again.submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 3, dst: 4 }] }));
    expect(next.epoch).toBe(small.epoch + 1);
    const s = again.snapshot(next.epoch);
    expect(lists(s).slice(10)).toEqual(want.slice(10)); // vertices 0-4 took the small writes
    s.close();
  });
});
