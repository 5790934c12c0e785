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
    // Free more than the free stack's initial capacity, so it has to grow.
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
});
