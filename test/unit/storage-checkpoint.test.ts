/**
 * Logical checkpoints: encode a snapshot, restore it into a fresh store, and read back the
 * same graph (vertices, labels, every property type, edges and edge properties, string and
 * integer ids, deleted elements) at the same epoch with the same local ids; corrupt or
 * truncated checkpoints are refused with clear errors.
 */

import { describe, expect, it } from 'vitest';
import { packMsgpack as pack, unpackMsgpack as unpack } from '../../src/codec/msgpack.js';
import { decodeBatch } from '../../src/model/ops.js';
import { encodeCheckpoint } from '../../src/storage/checkpoint-codec.js';
import { restoreCheckpoint } from '../../src/storage/checkpoint-restore.js';
import { PartitionReader, PartitionStore, type Snapshot } from '../../src/storage/index.js';

const LIMITS = { chunkWords: 1 << 16, maxChunks: 32, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 22 };

function dump(snap: Snapshot) {
  const out: unknown[] = [];
  snap.forEachVertex((lid) => {
    const id = snap.externalId(lid);
    const v = snap.vertex(id);
    const edges: unknown[] = [];
    snap.forEachNeighbor(lid, 'out', -1, (n, addr, l) => {
      const p = snap.edgeProps(l, addr);
      edges.push([
        snap.edgeLabelNames()[l],
        snap.externalId(n),
        JSON.stringify(p, (_k, x) => (x instanceof Float32Array ? Array.from(x) : x)),
      ]);
    });
    snap.forEachNeighbor(lid, 'in', -1, (n, _a, l) =>
      edges.push(['<', snap.edgeLabelNames()[l], snap.externalId(n)]),
    );
    out.push([
      lid,
      id,
      v?.label,
      JSON.stringify(v?.props, (_k, x) => (x instanceof Float32Array ? Array.from(x) : x)),
      v?.createdEpoch,
      edges.sort(),
    ]);
  });
  return out;
}

function build(partitions = 1, partition = 0) {
  const s = PartitionStore.create({ limits: LIMITS, partitions, partition });
  const ops = [];
  for (let i = 0; i < 300; i++) {
    ops.push({
      op: 'upsertVertex',
      id: i,
      label: i % 3 === 0 ? 'person' : 'vertex',
      props: i % 3 === 0 ? { name: `p${i}`, age: i, ok: i % 2 === 0, emb: [i, i + 1] } : {},
    });
  }
  for (let i = 0; i < 1500; i++) {
    ops.push({
      op: 'upsertEdge',
      src: i % 300,
      dst: (i * 7) % 300,
      label: i % 5 === 0 ? 'knows' : 'edge',
      props: i % 5 === 0 ? { since: i, tag: `t${i % 4}`, w: [1, 2, 3] } : { weight: i / 10 },
    });
  }
  ops.push({ op: 'upsertEdge', src: 'alice', dst: 2 ** 40, props: { weight: 0 } });
  s.apply(decodeBatch({ ops }));
  s.seal();
  s.apply(
    decodeBatch({
      ops: [
        { op: 'deleteVertex', id: 7 },
        { op: 'deleteEdge', src: 1, dst: 7 },
        { op: 'upsertEdge', src: 1, dst: 8, props: { weight: 9 } },
      ],
    }),
  );
  s.seal();
  return s;
}

async function roundTrip(s: PartitionStore, viaMsgpack: boolean) {
  const r = new PartitionReader(s.descriptor);
  const meta = s.epochs[s.epochs.length - 1];
  const records = r.read(undefined, (snap) => [...encodeCheckpoint(snap, meta)]);
  const wire = viaMsgpack ? records.map((x) => unpack(pack(x))) : records;
  const restored = await restoreCheckpoint(wire, { limits: LIMITS });
  return { records, restored, original: r.read(undefined, dump), meta };
}

describe('checkpoint codec', () => {
  it('restores the same graph at the same epoch with the same local ids', async () => {
    const s = build();
    const { restored, original, meta } = await roundTrip(s, true);
    expect(restored.published).toBe(meta.epoch);
    expect(restored.vertexCount).toBe(s.vertexCount);
    expect(restored.edgeTotal).toBe(s.edgeTotal);
    const again = new PartitionReader(restored.descriptor).read(undefined, dump);
    expect(again).toEqual(original);
    // Nothing older than the checkpoint epoch is readable after a restore.
    expect(() => new PartitionReader(restored.descriptor).open(meta.epoch - 1)).toThrow(/left retention/);
    // The restored store keeps working: writes, seals, compaction.
    restored.apply(decodeBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { weight: 1.5 } }] }));
    restored.compactAll();
    expect(restored.seal().epoch).toBe(meta.epoch + 1);
  });

  it('restores a partition of a multi-partition graph (ghost local ids included)', async () => {
    const s = build(2, 1);
    const { restored, original } = await roundTrip(s, true);
    expect(new PartitionReader(restored.descriptor).read(undefined, dump)).toEqual(original);
  });

  it("splits long adjacency into chunks of whole lists, with each chunk's edge properties", async () => {
    const s = PartitionStore.create({ limits: LIMITS });
    const n = 150_000;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    const weight = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = i % 50_000;
      dst[i] = i % 30_011;
      weight[i] = i / 4;
    }
    s.apply(decodeBatch({ edges: { src, dst, props: { weight } } }));
    s.seal();
    s.apply(decodeBatch({ ops: [{ op: 'deleteEdge', src: 2, dst: 2 }] }));
    s.seal();
    const { records, restored, original } = await roundTrip(s, true);
    const adj = records.filter((r) => r.t === 'adj');
    const outChunks = adj.filter((r) => r.dir === 'out');
    expect(outChunks.length).toBeGreaterThan(1);
    expect(adj.filter((r) => r.dir === 'in').length).toBeGreaterThan(1);
    // One eprops record per out chunk, as long as its neighbours; lists are never cut.
    const eprops = records.filter((r) => r.t === 'eprops');
    expect(eprops.length).toBe(outChunks.length);
    const rowsSeen = new Set<number>();
    for (const r of adj) {
      if (r.t !== 'adj') continue;
      expect(r.counts.reduce((a, b) => a + b, 0)).toBe(r.nbrs.length);
      for (const v of r.rows) {
        const key = r.dir === 'out' ? v : -1 - v;
        expect(rowsSeen.has(key)).toBe(false);
        rowsSeen.add(key);
      }
    }
    expect(new PartitionReader(restored.descriptor).read(undefined, dump)).toEqual(original);
  });

  it('restores and compacts a vertex range that holds more entries than an arena chunk', async () => {
    // 4096 sources with 30 out-edges each, created first so that they are local ids 0-4095
    // (range 0): ~123K entries in one range, against 64K-word arena chunks.
    const s = PartitionStore.create({ limits: LIMITS });
    s.apply(decodeBatch({ ops: Array.from({ length: 4096 }, (_, i) => ({ op: 'upsertVertex', id: i })) }));
    s.seal();
    const n = 4096 * 30;
    const src = new Float64Array(n);
    const dst = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      src[i] = i % 4096;
      dst[i] = 10_000 + (i % 30_011);
    }
    s.apply(decodeBatch({ edges: { src, dst } }));
    s.seal();
    // Compaction leaves the oversized range in its blocks and compacts the others.
    s.compactAll();
    s.seal();
    const { restored, original } = await roundTrip(s, false);
    expect(new PartitionReader(restored.descriptor).read(undefined, dump)).toEqual(original);
    restored.compactAll();
    restored.seal();
    expect(new PartitionReader(restored.descriptor).read(undefined, dump)).toEqual(original);
  });

  it('refuses corrupt and truncated checkpoints with a clear error', async () => {
    const s = build();
    const { records } = await roundTrip(s, false);
    await expect(restoreCheckpoint(records.slice(0, -1), { limits: LIMITS })).rejects.toThrow(/truncated/);
    await expect(restoreCheckpoint(records.slice(1), { limits: LIMITS })).rejects.toThrow(
      /first record is not a header/,
    );
    const bad = records.map((r) =>
      r.t === 'adj' ? { ...r, nbrs: new Uint32Array(r.nbrs.length).fill(999_999) } : r,
    );
    await expect(restoreCheckpoint(bad, { limits: LIMITS })).rejects.toThrow(/corrupt checkpoint/);
    const wrongCount = records.map((r) => (r.t === 'end' ? { ...r, records: 3 } : r));
    await expect(restoreCheckpoint(wrongCount, { limits: LIMITS })).rejects.toThrow(/end record counts/);
    await expect(restoreCheckpoint([{ t: 'header', version: 99 }], { limits: LIMITS })).rejects.toThrow(
      /unsupported version/,
    );
  });
});
