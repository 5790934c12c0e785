/**
 * resolveMany answers what the id index answers, id by id, at every epoch: the local id of
 * every id ever written (the index is not versioned), which Snapshot.lookup narrows to the
 * vertices of the epoch.
 */
import { describe, expect, it } from 'vitest';
import type { ExternalId } from '../../src/model/ids.js';
import type { Op } from '../../src/model/ops.js';
import { neighborTables, PartitionReader, PartitionStore, resolveMany } from '../../src/storage/index.js';
import { rng } from '../helpers/rng.js';

describe('resolveMany', () => {
  it('equals the index lookup for present, missing, deleted, later-created and string ids', () => {
    const s = PartitionStore.create({
      limits: { chunkWords: 1 << 16, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 },
    });
    const reader = new PartitionReader(s.descriptor);
    const rand = rng(17);
    const epochs: number[] = [];
    for (let k = 0; k < 8; k++) {
      const ops: Op[] = [];
      for (let i = 0; i < 3000; i++) {
        const a: ExternalId = rand(6) === 0 ? `v${rand(9000)}` : rand(9000);
        const b = rand(9000);
        ops.push({ op: 'upsertEdge', src: a, dst: b, label: rand(3) === 0 ? 'other' : 'edge' });
      }
      if (k > 1) for (let i = 0; i < 100; i++) ops.push({ op: 'deleteVertex', id: rand(9000) });
      s.apply({ ops });
      epochs.push(s.seal().epoch);
    }
    const ids: ExternalId[] = [];
    for (let i = 0; i < 1500; i++) ids.push(rand(5) === 0 ? `v${rand(12_000)}` : rand(12_000));
    ids.push(2 ** 53 - 1, 0, 'nobody');
    let present = 0;
    let notAtEpoch = 0;
    for (const e of [epochs[0], epochs[3], epochs[7]]) {
      reader.read(e, (snap) => {
        for (const [dirs, label] of [
          [['out'], -1],
          [['out', 'in'], 0],
          [['in'], 1],
        ] as const) {
          const tables = neighborTables(snap, dirs, label);
          // Every other id, in a scrambled order of request positions.
          const sel = Int32Array.from(ids.keys())
            .filter((i) => i % 2 === 0)
            .reverse();
          const out = new Int32Array(sel.length);
          resolveMany(snap, ids, sel, sel.length, out, tables);
          for (let k = 0; k < sel.length; k++) {
            const id = ids[sel[k]];
            expect(out[k], `epoch ${e} id ${id}`).toBe(snap.reader.ids.lookup(id));
            const atEpoch = snap.lookup(id);
            if (atEpoch >= 0) {
              expect(out[k]).toBe(atEpoch);
              present++;
            } else if (out[k] >= 0) notAtEpoch++;
          }
        }
      });
    }
    expect(present).toBeGreaterThan(1000);
    // Ids written later, or deleted by then: in the index, not vertices at the epoch read.
    expect(notAtEpoch).toBeGreaterThan(100);
  });
});
