import { describe, expect, it } from 'vitest';
import { Arena } from '../../src/storage/arena-allocator.js';
import { DEFAULT_LIMITS } from '../../src/storage/layout.js';
import { ArenaViews, createDescriptor } from '../../src/storage/shared-pool.js';

function arena(): Arena {
  const d = createDescriptor(0, 1, DEFAULT_LIMITS);
  return new Arena(new ArenaViews(d), new Uint32Array(d.ctl), DEFAULT_LIMITS.maxChunks);
}

describe('NodePool (version nodes)', () => {
  it('hands out distinct nodes, reuses freed ones before new memory, and counts the live ones', () => {
    const a = arena();
    const first = Array.from({ length: 5000 }, () => a.nodes.alloc());
    expect(new Set(first).size).toBe(5000);
    expect(a.nodes.live).toBe(5000);
    // Free two of every three nodes, spread over the first extent.
    const freed = first.filter((_, i) => i % 3 !== 0);
    for (const x of freed) a.nodes.free(x);
    expect(a.nodes.live).toBe(5000 - freed.length);
    const frontier = a.extentWordsInUse;
    const again = Array.from({ length: freed.length }, () => a.nodes.alloc());
    // Every freed node comes back once, and no new extent was taken for them.
    expect(new Set(again)).toEqual(new Set(freed));
    expect(a.extentWordsInUse).toBe(frontier);
    expect(a.nodes.live).toBe(5000);
    // With the free stack empty, the next node is new memory, distinct from all live ones.
    const fresh = a.nodes.alloc();
    expect(first.includes(fresh)).toBe(false);
  });

  it('hands freed nodes back in address order from a cursor, across many extents', () => {
    const a = arena();
    // 5 extents of 8192 nodes.
    const all = Array.from({ length: 5 * 8192 }, () => a.nodes.alloc());
    expect(new Set(all).size).toBe(all.length);
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    // Free a random third, in random order.
    const freed = new Set<number>();
    while (freed.size < all.length / 3) freed.add(all[rand(all.length)]);
    const order = [...freed].sort(() => rand(3) - 1);
    for (const x of order) a.nodes.free(x);
    const frontier = a.extentWordsInUse;
    const again = Array.from({ length: freed.size }, () => a.nodes.alloc());
    expect(new Set(again)).toEqual(freed);
    expect(a.extentWordsInUse).toBe(frontier);
    // Next-fit from the start: taken in the order the extents were created, ascending within
    // each (the first extent's nodes come before the second's, and so on).
    const rank = new Map(all.map((x, i) => [x, i]));
    const ranks = again.map((x) => rank.get(x) as number);
    expect(ranks).toEqual([...ranks].sort((p, q) => p - q));
    // Freed after the cursor passed them: found again after wrapping.
    a.nodes.free(again[0]);
    a.nodes.free(again[again.length - 1]);
    expect(new Set([a.nodes.alloc(), a.nodes.alloc()])).toEqual(new Set([again[0], again[again.length - 1]]));
    expect(a.nodes.live).toBe(all.length);
  });
});
