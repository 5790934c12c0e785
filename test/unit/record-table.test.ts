import { describe, expect, it } from 'vitest';
import { PartitionStore } from '../../src/storage/index.js';
import { RB_HEADER, REC_COUNT, REC_HEAD, REC_STRIDE, RECORD_MASK } from '../../src/storage/layout.js';
import { W_COUNT, W_HEAD, W_STRIDE } from '../../src/storage/record-table.js';
import { prefault, resolveLimits } from '../../src/storage/shared-pool.js';
import { StoreCore } from '../../src/storage/store-core.js';

const small = { chunkWords: 1 << 16, maxChunks: 8, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };

/** A record table on its own arena, and the record readers see for an item. */
function table(limits = small) {
  const core = new StoreCore(0, 1, resolveLimits(limits));
  const t = core.registry.create();
  t.ensureItems(10_000);
  const record = (item: number): [number, number] => {
    const rb = t.blockFor(item);
    const v = core.arena.views;
    const ro = rb + RB_HEADER + (item & RECORD_MASK) * REC_STRIDE;
    return [v.word(ro + REC_HEAD), v.word(ro + REC_COUNT)];
  };
  const set = (item: number, head: number, count: number, fresh?: boolean) => {
    t.w[item * W_STRIDE + W_HEAD] = head;
    t.w[item * W_STRIDE + W_COUNT] = count;
    t.markDirty(item, fresh);
  };
  return { core, t, record, set };
}

describe('record table dirty log', () => {
  it('publishes the last state an item had in the epoch, and forgets the epoch at the seal', () => {
    const { core, t, record, set } = table();
    set(7, 100, 1);
    set(9000, 300, 1, true);
    set(7, 200, 2);
    expect(t.dirtyItems).toBe(2);
    expect(t.isDirty(7) && t.isDirty(9000) && !t.isDirty(8)).toBe(true);
    expect(t.isPrivate(9000) && !t.isPrivate(7)).toBe(true);
    expect(t.seal(1, core.versions)).toBe(2);
    expect(record(7)).toEqual([200, 2]);
    expect(record(9000)).toEqual([300, 1]);
    expect(t.isDirty(7) || t.isDirty(9000) || t.isPrivate(9000)).toBe(false);
    // A change in the next epoch that does not move the block: not private any more.
    set(9000, 300, 2);
    expect(t.isDirty(9000) && !t.isPrivate(9000)).toBe(true);
    expect(t.isDirty(7)).toBe(false);
  });

  it('gives back the memory of a large epoch once epochs are small again', () => {
    const { core, t, record, set } = table({ ...small, chunkWords: 1 << 20, slotMaxBytes: 1 << 23 });
    t.ensureItems(300_000);
    const held = () => (t as unknown as { dirty: { log: Uint32Array } }).dirty.log.length;
    for (let item = 0; item < 300_000; item++) set(item, item + 1, 1);
    t.seal(1, core.versions);
    const large = held();
    expect(large).toBeGreaterThanOrEqual(300_000 * 4);
    for (let item = 0; item < 10; item++) set(item, 7, 2);
    t.seal(2, core.versions);
    expect(held()).toBeLessThan(large / 4);
    // The log still works after shrinking, and stale slots past its end are not members.
    expect(t.isDirty(299_999)).toBe(false);
    set(299_999, 9, 3);
    expect(t.isDirty(299_999) && t.dirtyItems === 1).toBe(true);
    t.seal(3, core.versions);
    expect(record(299_999)).toEqual([9, 3]);
    expect(record(5)).toEqual([7, 2]);
  });

  it('stays exact when the seal generation wraps around', () => {
    const { core, t, record, set } = table();
    // The generation is 22 bits: start just below the wrap.
    const log = (t as unknown as { dirty: { gen: number } }).dirty;
    log.gen = (1 << 22) - 2;
    for (let e = 1; e <= 4; e++) {
      // Items dirty in the previous epoch keep stale slots and generations: none is dirty now.
      for (let item = 0; item < 50; item++) expect(t.isDirty(item)).toBe(false);
      for (let item = e % 2; item < 50; item += 2) set(item, 1000 * e + item, e);
      expect(t.dirtyItems).toBe(25);
      // Neither last epoch's items nor items never changed (generation 0 in their writer
      // state, which is the current generation once it wraps) are dirty.
      for (let item = 1 - (e % 2); item < 60; item += item < 50 ? 2 : 1) expect(t.isDirty(item)).toBe(false);
      t.seal(e, core.versions);
      expect(record(e % 2)).toEqual([1000 * e + (e % 2), e]);
    }
    // Four seals from 2^22 - 2: the generation wrapped to 0 and went on.
    expect(log.gen).toBe(2);
  });
});

describe('record table writer state', () => {
  it('keeps its state when it grows in place, into a new reservation, and past a quarter of 4 GiB', () => {
    const { t } = table();
    const mark = (items: number[]) => {
      for (const i of items) t.w[i * W_STRIDE + W_HEAD] = i + 1;
    };
    const marked = (items: number[]) => items.every((i) => t.w[i * W_STRIDE + W_HEAD] === i + 1);
    const early = [0, 1, 9_999];
    mark(early);
    // 10K items reserve 16 times their size: 100K grows in place, 1M needs a new reservation.
    t.ensureItems(100_000);
    mark([99_999]);
    t.ensureItems(1_000_000);
    expect(marked([...early, 99_999])).toBe(true);
    // 17M items (512 MiB of writer state): 16 times that is more than a growable buffer may
    // reserve, so the reservation is capped at 4 GiB rather than refused. The pages stay
    // untouched, but for the copy.
    t.ensureItems(17_000_000);
    expect(t.capacity).toBeGreaterThanOrEqual(17_000_000);
    mark([16_999_999]);
    t.ensureItems(60_000_000);
    expect(t.capacity).toBeGreaterThanOrEqual(60_000_000);
    expect(marked([...early, 99_999, 16_999_999])).toBe(true);
    expect(t.w[59_999_999 * W_STRIDE + W_HEAD]).toBe(0);
  });
});

describe('growth with committed pages', () => {
  it('keeps every writer state through in-place and copying growth, and new items read as zero', () => {
    const { t } = table();
    const filled = 10_000;
    for (let i = 0; i < filled; i++) t.w[i * W_STRIDE + W_HEAD] = i + 1;
    // 10K items -> 1M: in place while the reserve lasts, then a copy into a larger buffer.
    for (let n = 20_000; n <= 1 << 20; n *= 2) t.ensureItems(n);
    for (let i = 0; i < filled; i++) expect(t.w[i * W_STRIDE + W_HEAD]).toBe(i + 1);
    let nonZero = 0;
    for (let i = filled * W_STRIDE; i < t.w.length; i++) nonZero += t.w[i] === 0 ? 0 : 1;
    expect(nonZero).toBe(0);
  });

  it('prefault commits fresh pages without changing a byte', () => {
    const sab = new SharedArrayBuffer(8192, { maxByteLength: 1 << 20 });
    const bytes = new Uint8Array(sab);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 1) & 0xff;
    sab.grow(100_000);
    prefault(sab, 8192, sab.byteLength);
    const after = new Uint8Array(sab);
    for (let i = 0; i < 8192; i++)
      if (after[i] !== ((i * 7 + 1) & 0xff)) throw new Error(`byte ${i} changed`);
    expect(after.subarray(8192).every((b) => b === 0)).toBe(true);
  });

  it('leaves the headroom of grown buffers uncommitted: a store with one edge takes little memory', () => {
    // Committing each growth step (32 MiB for the arena) took ~42 MB per store; lazily, ~0.7.
    const stores: PartitionStore[] = [];
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 8; i++) {
      const s = PartitionStore.create();
      s.apply({ ops: [{ op: 'upsertEdge', src: 1, dst: 2 }] });
      s.seal();
      stores.push(s);
    }
    const perStore = (process.memoryUsage().rss - before) / stores.length;
    expect(stores.every((s) => s.published === 1)).toBe(true);
    expect(perStore).toBeLessThan(8 << 20);
  });
});
