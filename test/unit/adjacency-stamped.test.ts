/**
 * Stamped (deleted) entries per vertex range: they pick the ranges worth compacting, and the
 * count stays a dense array of numbers however far from the start a range lies.
 */
import { describe, expect, it } from 'vitest';
import { compactRange, rangeNeedsCompaction } from '../../src/storage/adjacency-compaction.js';
import { RECORDS_PER_BLOCK } from '../../src/storage/layout.js';
import { resolveLimits } from '../../src/storage/shared-pool.js';
import { StoreCore } from '../../src/storage/store-core.js';

describe('stamped entries per range', () => {
  it('count deletions in their range, make it worth compacting, and reset when it is', () => {
    const core = new StoreCore(0, 1, resolveLimits({}));
    const L = core.edgeLabel('knows');
    const far = 60 * RECORDS_PER_BLOCK + 5;
    core.ensureLid(far + 10);
    core.ensureStores(L, far + 10);
    const out = L.out;
    for (const d of [far + 1, far + 2, far + 3]) out.append(far, d, 1, 0);
    expect(compactRange(out, 60, 1, 0)).toBe(3);
    expect(rangeNeedsCompaction(out, 60)).toBe(false);

    out.deleteEntry(far, out.find(far, far + 2), 2);
    out.deleteEntry(far, out.find(far, far + 3), 2);
    const stamped = out.rangeStamped;
    expect(stamped.length).toBe(61);
    // Indexed reads, not every(): every() skips the holes of a sparse array.
    const values: unknown[] = [];
    for (let r = 0; r < stamped.length; r++) values.push(stamped[r]);
    expect(values).toEqual([...new Array(60).fill(0), 2]);
    expect(rangeNeedsCompaction(out, 60)).toBe(true);

    expect(compactRange(out, 60, 3, 2)).toBe(1);
    expect(stamped[60]).toBe(0);
    expect(rangeNeedsCompaction(out, 60)).toBe(false);
    expect(out.find(far, far + 1)).not.toBe(0);
    expect(out.find(far, far + 2)).toBe(0);
  });
});
