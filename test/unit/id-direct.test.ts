/**
 * The id index's direct map (id-index.ts): integer ids below a bound are indexed by position,
 * ids far above it go to the hash, and when the bound grows past ids of the hash they are
 * copied into the map before the new bound is published. Readers that still hold an older
 * bound must find every id either way, and the map must stay within its allowance.
 */
import { describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/storage/id-index.js';
import { IdIndexViews } from '../../src/storage/id-index-views.js';
import { SEG_COUNT } from '../../src/storage/layout.js';
import { createDescriptor, resolveLimits } from '../../src/storage/shared-pool.js';
import { rng } from '../helpers/rng.js';

const LIMITS = resolveLimits({
  indexSegments: 4,
  chunkWords: 1 << 16,
  maxChunks: 4,
  poolSlots: 16,
  slotMaxBytes: 1 << 24,
});

function hashCount(v: IdIndexViews): number {
  let n = 0;
  for (const seg of v.segs) n += seg[SEG_COUNT];
  return n;
}

function fresh(): { index: IdIndex; desc: ReturnType<typeof createDescriptor> } {
  const desc = createDescriptor(0, 1, LIMITS);
  return { index: new IdIndex(desc), desc };
}

describe('id index direct map', () => {
  it('indexes small integer ids by position, with nothing in the hash', () => {
    const { index, desc } = fresh();
    for (let i = 0; i < 10_000; i++) expect(index.intId(i)).toBe(i);
    expect(index.views.directBound).toBeGreaterThanOrEqual(10_000);
    expect(hashCount(index.views)).toBe(0);
    const reader = new IdIndexViews(desc);
    for (let i = 0; i < 10_000; i++) expect(reader.lookup(i)).toBe(i);
    for (const absent of [10_000, 2 ** 31 + 5, 2 ** 40, 'x']) expect(reader.lookup(absent)).toBe(-1);
    // -0 is the id 0, with the key 0.
    expect(index.intId(-0)).toBe(0);
    expect(Object.is(reader.externalId(0), 0)).toBe(true);
    // Found again by the writer: nothing created.
    expect(index.intId(1234)).toBe(1234);
    expect(index.created).toBe(false);
    expect(index.count).toBe(10_000);
  });

  it('keeps the key 0 when the id 0 first comes as -0', () => {
    const { index, desc } = fresh();
    expect(index.intId(-0)).toBe(0);
    expect(index.intId(0)).toBe(0);
    expect(index.created).toBe(false);
    expect(Object.is(new IdIndexViews(desc).externalId(0), 0)).toBe(true);
  });

  it('copies ids of the hash into the map when it grows past them; readers with an older bound find both kinds', () => {
    const { index, desc } = fresh();
    const maxIds = LIMITS.slotMaxBytes / 4;
    // Far above what the map may cover yet: into the hash (the last one for good: past the
    // largest map the slot holds).
    const far = [3_000_000, 2_500_001, maxIds + 5];
    const farLids = far.map((id) => index.intId(id));
    expect(hashCount(index.views)).toBe(3);
    const early = new IdIndexViews(desc);
    const earlyBound = early.directBound;
    // Dense ids: the map grows with them, only as far as the ids inserted need.
    for (let i = 0; i < 1_200_000; i++) index.intId(i);
    expect(index.views.directBound).toBeLessThan(2_500_001);
    // Now the ids below a new id past the first two far ones are dense enough to cover.
    const next = index.intId(3_500_000);
    expect(index.views.directBound).toBeGreaterThan(3_500_000);
    // The far ids below the new bound were copied: the writer finds them in the map, with
    // their first local ids; the one past it is still found in the hash.
    far.forEach((id, k) => {
      expect(index.intId(id)).toBe(farLids[k]);
      expect(index.created).toBe(false);
      expect(index.views.direct[id] ?? 0).toBe(id < index.views.directBound ? farLids[k] + 1 : 0);
    });
    expect(index.count).toBe(1_200_004);
    // A reader that still holds the bound it saw before the growth: the far ids from the
    // hash, the dense ones past its bound by loading the bound again after a hash miss.
    expect(early.directBound).toBe(earlyBound);
    far.forEach((id, k) => {
      expect(early.lookup(id)).toBe(farLids[k]);
    });
    expect(early.lookup(1_199_999)).toBe(index.intId(1_199_999));
    expect(early.lookup(3_500_000)).toBe(next);
    expect(early.directBound).toBe(index.views.directBound);
    const late = new IdIndexViews(desc);
    for (let i = 0; i < 1_200_000; i += 997) expect(late.lookup(i)).toBe(index.intId(i));
    for (const absent of [1_200_000, 3_000_001, 3_499_999, maxIds + 6]) expect(late.lookup(absent)).toBe(-1);
    for (let i = 0; i < 1_200_000; i += 9973) expect(late.externalId(late.lookup(i))).toBe(i);
  });

  it('leaves ids spread thin in the hash: the map covers no more than its spare megabyte', () => {
    const { index, desc } = fresh();
    // Distinct 32-bit ids scattered over the whole range (as a hash of 0 .. n-1 gives them).
    const ids = Array.from({ length: 300_000 }, (_, i) => (Math.imul(i, 0x9e3779b1) ^ 0x5bd1e995) >>> 0);
    const lids = ids.map((id) => index.intId(id));
    expect(index.views.directBound * 4).toBeLessThanOrEqual(1 << 20);
    expect(hashCount(index.views)).toBeGreaterThan(299_000);
    const reader = new IdIndexViews(desc);
    ids.forEach((id, k) => {
      if (k % 7 === 0) expect(reader.lookup(id)).toBe(lids[k]);
    });
  });

  it('keeps the map within its allowance when ids lie far apart, and finds every id', () => {
    const { index, desc } = fresh();
    const r = rng(5);
    const ids = new Set<number>();
    while (ids.size < 40_000) ids.add(r(2 ** 31));
    const lids = new Map<number, number>();
    for (const id of ids) lids.set(id, index.intId(id));
    const mapBytes = index.views.directBound * 4;
    expect(mapBytes).toBeLessThanOrEqual((1 << 20) + 12 * index.count);
    expect(hashCount(index.views)).toBeGreaterThan(30_000);
    const reader = new IdIndexViews(desc);
    for (const [id, lid] of lids) expect(reader.lookup(id)).toBe(lid);
    expect(index.bytes().index).toBeGreaterThanOrEqual(mapBytes);
  });

  it('sends integer ids past the largest map a slot holds, large integers and strings to the hash', () => {
    const { index, desc } = fresh();
    const maxIds = LIMITS.slotMaxBytes / 4;
    // Enough ids for the allowance to reach the slot's limit.
    for (let i = 0; i < 1_500_000; i++) index.intId(i);
    index.intId(maxIds - 1);
    expect(index.views.directBound).toBe(maxIds);
    const before = hashCount(index.views);
    const others = [maxIds, maxIds + 17, 2 ** 32 + 3, 2 ** 53 - 1];
    const lids = others.map((id) => index.intId(id));
    const strLid = index.stringId(new TextEncoder().encode('vertex-a'));
    expect(hashCount(index.views)).toBe(before + others.length + 1);
    const reader = new IdIndexViews(desc);
    others.forEach((id, k) => {
      expect(reader.lookup(id)).toBe(lids[k]);
    });
    expect(reader.lookup('vertex-a')).toBe(strLid);
    expect(reader.lookup(maxIds - 1)).toBe(index.intId(maxIds - 1));
  });
});
