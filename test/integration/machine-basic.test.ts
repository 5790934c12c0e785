/**
 * A machine with real partition workers: writes are acknowledged with an epoch that is at
 * once readable, time travel works across partitions, deletes cascade across partitions in
 * one epoch, shutdown is clean, and a reopened machine recovers every acknowledged batch and
 * continues the epoch numbering.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Machine } from '../../partitions/machine.js';
import { decodeBatch } from '../../src/model/ops.js';
import { tempDir } from '../helpers/temp-dir.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(dir: string, partitions = 2) {
  const m = await Machine.open({ dataDir: dir, partitions, epochMs: 10, limits: LIMITS });
  return m;
}

describe('machine', () => {
  it('acknowledges durable, visible writes and reads them back at that epoch', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await open(dir.path);
    const a = await m.submit(
      decodeBatch({
        ops: [
          { op: 'upsertVertex', id: 1, label: 'person', props: { name: 'ann' } },
          { op: 'upsertEdge', src: 1, dst: 2, props: { w: 1 } },
          { op: 'upsertEdge', src: 2, dst: 3 },
          { op: 'upsertEdge', src: 'x', dst: 1 },
        ],
      }),
    );
    expect(a.epoch).toBeGreaterThan(0);
    expect(a.applied.upsertedEdges).toBe(3);
    expect(m.latestEpoch).toBeGreaterThanOrEqual(a.epoch);
    const s = m.snapshot(a.epoch);
    expect(s.vertex(1)).toMatchObject({ label: 'person', props: { name: 'ann' }, outDegree: 1, inDegree: 1 });
    expect(s.neighbors(1, { direction: 'both' })?.neighbors).toEqual([2, 'x']);
    s.close();

    // Delete vertex 2: its edges on both partitions go in the same epoch.
    const b = await m.submit(
      decodeBatch({
        ops: [
          { op: 'deleteVertex', id: 2 },
          { op: 'upsertEdge', src: 3, dst: 1 },
        ],
      }),
    );
    const before = m.snapshot(a.epoch);
    const after = m.snapshot(b.epoch);
    expect(before.neighbors(1)?.neighbors).toEqual([2]);
    expect(after.neighbors(1)?.neighbors).toEqual([]);
    expect(after.neighbors(3, { direction: 'in' })?.neighbors).toEqual([]);
    expect(after.vertex(2)).toBeNull();
    expect(after.neighbors(1, { direction: 'in' })?.neighbors.sort()).toEqual([3, 'x'].sort());
    before.close();
    after.close();

    await m.close();
    const m2 = await open(dir.path);
    cleanups.push(() => m2.close());
    expect(m2.latestEpoch).toBe(b.epoch);
    const r = m2.snapshot();
    expect(r.vertex(1)).toMatchObject({ label: 'person', props: { name: 'ann' } });
    expect(r.vertex(2)).toBeNull();
    expect(r.neighbors(1, { direction: 'in' })?.neighbors.sort()).toEqual([3, 'x'].sort());
    r.close();
    // Epoch numbers continue.
    const c = await m2.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 9 }] }));
    expect(c.epoch).toBeGreaterThan(b.epoch);
  });

  it('refuses a data dir created with another partition count', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await open(dir.path, 2);
    await m.close();
    await expect(open(dir.path, 3)).rejects.toThrow(/created with 2 partitions; refusing to start with 3/);
  });

  it('rejects a batch with a type conflict whole, on every partition', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const m = await open(dir.path, 2);
    cleanups.push(() => m.close());
    await m.submit(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { w: 1 } }] }));
    await expect(
      m.submit(
        decodeBatch({
          ops: [
            { op: 'upsertEdge', src: 5, dst: 6 },
            { op: 'upsertEdge', src: 7, dst: 8, props: { w: 'x' } },
          ],
        }),
      ),
    ).rejects.toMatchObject({ code: 'SCHEMA_CONFLICT' });
    const e = (await m.submit(decodeBatch({ ops: [{ op: 'upsertVertex', id: 100 }] }))).epoch;
    const s = m.snapshot(e);
    expect(s.vertex(5)).toBeNull();
    expect(s.vertex(7)).toBeNull();
    s.close();
  });
});
