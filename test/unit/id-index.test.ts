/**
 * The id index through many rehashes, with every kind of key: integers below 2^32 (exact
 * slots, below and above 2^31: key words are int32), larger safe integers and strings (slots
 * that hold a hash). A rehash places each slot from its key word alone, so every kind must
 * still be found, by the writer and by readers, in an index of one segment or of many.
 */
import { describe, expect, it } from 'vitest';
import type { ExternalId } from '../../src/model/ids.js';
import { PartitionReader, PartitionStore } from '../../src/storage/index.js';

function idOf(i: number): ExternalId {
  switch (i % 4) {
    case 0:
      return i * 7919;
    case 1:
      return 2 ** 31 + i * 7919;
    case 2:
      return 2 ** 40 + i * 104_729;
    default:
      return `v-${i}`;
  }
}

describe('id index', () => {
  it.each([
    { segments: 32, limits: {} },
    { segments: 1, limits: { indexSegments: 1 } },
  ])(
    'finds integer, large integer and string ids after growing from empty ($segments segments)',
    ({ limits }) => {
      const store = PartitionStore.create({ limits });
      const n = 150_000;
      const ids = Array.from({ length: n }, (_, i) => idOf(i));
      // Bulk edges between consecutive ids: every id gets a local id in one batch per chunk.
      for (let k = 0; k < n; k += 30_000) {
        const src = ids.slice(k, k + 30_000);
        const dst = src.map((_, j) => ids[(k + j + 1) % n]);
        store.apply({ ops: [], edges: { src, dst } });
        store.seal();
      }
      const reader = new PartitionReader(store.descriptor);
      reader.read(undefined, (snap) => {
        const seen = new Set<number>();
        for (const id of ids) {
          const lid = snap.lookup(id);
          expect(lid, `id ${String(id)}`).toBeGreaterThanOrEqual(0);
          expect(snap.externalId(lid)).toBe(id);
          seen.add(lid);
        }
        expect(seen.size).toBe(n);
        // Ids never inserted, of each kind (one collides with an exact slot's key word).
        for (const absent of [1, 2 ** 31 + 1, 2 ** 40 + 1, 'v-x', 7919 * n + 1, 2 ** 32 + 7919, 2 ** 32 - 1])
          expect(snap.lookup(absent)).toBe(-1);
      });
      // The writer finds them too: re-inserting creates nothing.
      const before = store.stats().localIds;
      store.apply({ ops: [], edges: { src: ids.slice(0, 1000), dst: ids.slice(1, 1001) } });
      expect(store.stats().localIds).toBe(before);
    },
  );
});
