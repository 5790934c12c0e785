/**
 * Logical checkpoints of a partition: a stream of records (typed arrays, msgpack-friendly)
 * that describe one epoch's state independently of the memory layout, so a checkpoint can be
 * written from a snapshot in any thread while the writer goes on, and restored into a fresh
 * store with the same local ids.
 *
 * Records, in order:
 *   header   { t, version, partition, partitions, epoch, sealedAtMs, lids, vertices, edges,
 *              vertexLabels, edgeLabels }  (labels with their typed properties, in id order)
 *   keys     { t, from, nums: Float64Array, strs: [offset, string][] }  external id per local id
 *            (string ids have nums[i] = -1 and appear in strs; a local id no id has, a hole
 *            in an open segment (id-index.ts), has NaN: version 2 on)
 *   vertices { t, lids: Uint32Array, labels: Uint32Array, created: Uint32Array }
 *   vprops   { t, label, prop, lids: Uint32Array, values }  values: Float64Array (float64),
 *            Uint8Array 0/1 (bool), string[] (string), { flat: Float32Array, present:
 *            Uint8Array } (vector: `length` floats per value, present[i] = 0 when absent)
 *   adj      { t, label, dir, rows: Uint32Array, counts: Uint32Array, nbrs: Uint32Array }
 *   eprops   { t, label, prop, values }  aligned with the previous out `adj` record's nbrs;
 *            absent values: NaN (float64), 255 (bool), null (string), present 0 (vector)
 *   end      { t, records }
 *
 * This file holds the record format and the encoder; restoring (checking records read back
 * and rebuilding a store from them) is in checkpoint-restore.ts.
 */

import type { PropertySpec, Props } from '../model/schema.js';
import { appendLists, listColumns } from './append-lists.js';
import { vertexColumns } from './kernels.js';
import type { PropOut, Snapshot } from './snapshot.js';

export const CHECKPOINT_VERSION = 2;
/** The version before local-id segments: keys dense, no holes (still restored). */
export const DENSE_IDS_VERSION = 1;
const CHUNK = 65536;

export interface CheckpointLabel {
  name: string;
  properties: PropertySpec[];
}

export interface CheckpointHeader {
  t: 'header';
  version: number;
  partition: number;
  partitions: number;
  epoch: number;
  sealedAtMs: number;
  lids: number;
  vertices: number;
  edges: number;
  vertexLabels: CheckpointLabel[];
  edgeLabels: CheckpointLabel[];
}

export type CheckpointRecord =
  | CheckpointHeader
  | { t: 'keys'; from: number; nums: Float64Array; strs: [number, string][] }
  | { t: 'vertices'; lids: Uint32Array; labels: Uint32Array; created: Uint32Array }
  | { t: 'vprops'; label: string; prop: string; lids: Uint32Array; values: unknown }
  | { t: 'adj'; label: string; dir: 'out' | 'in'; rows: Uint32Array; counts: Uint32Array; nbrs: Uint32Array }
  | { t: 'eprops'; label: string; prop: string; values: unknown }
  | { t: 'end'; records: number };

export interface CheckpointMeta {
  epoch: number;
  sealedAtMs: number;
  /** Local ids assigned as of that epoch. */
  lids: number;
  vertices: number;
  edges: number;
}

/** Encode the snapshot's state as checkpoint records (lazily). */
export function* encodeCheckpoint(snap: Snapshot, meta: CheckpointMeta): Generator<CheckpointRecord> {
  const schema = snap.schema;
  const desc = snap.reader.descriptor;
  let records = 0;
  const header: CheckpointHeader = {
    t: 'header',
    version: CHECKPOINT_VERSION,
    partition: desc.partition,
    partitions: desc.partitions,
    epoch: snap.epoch,
    sealedAtMs: meta.sealedAtMs,
    lids: meta.lids,
    vertices: meta.vertices,
    edges: meta.edges,
    vertexLabels: schema.vertexLabels.map((l) => ({ name: l.name, properties: l.props.map(specOf) })),
    edgeLabels: schema.edgeLabels.map((l) => ({ name: l.name, properties: l.props.map(specOf) })),
  };
  yield header;
  records++;
  // NaN keys are holes (id-index.ts).
  const keys = snap.idKeys(meta.lids);
  for (let from = 0; from < meta.lids; from += CHUNK) {
    const n = Math.min(CHUNK, meta.lids - from);
    const nums = new Float64Array(n);
    const strs: [number, string][] = [];
    for (let i = 0; i < n; i++) {
      // An integer id's key is the id itself; NaN (a hole) is kept as it is.
      const k = keys[from + i];
      if (!(k < 0)) {
        nums[i] = k;
        continue;
      }
      const id = snap.externalIdOfKey(k);
      if (typeof id === 'number') nums[i] = id;
      else {
        nums[i] = -1;
        strs.push([i, id]);
      }
    }
    yield { t: 'keys', from, nums, strs };
    records++;
  }
  // Vertices and their properties, in local-id order.
  const { lids, labels, created } = vertexColumns(snap);
  for (let i = 0; i < lids.length; i += CHUNK) {
    yield {
      t: 'vertices',
      lids: lids.slice(i, i + CHUNK),
      labels: labels.slice(i, i + CHUNK),
      created: created.slice(i, i + CHUNK),
    };
    records++;
  }
  for (let l = 0; l < schema.vertexLabels.length; l++) {
    const label = schema.vertexLabels[l];
    for (const p of label.props) {
      const pl: number[] = [];
      const pv: PropOut[] = [];
      for (let i = 0; i < lids.length; i++) {
        if (labels[i] !== l) continue;
        const v = snap.vertexProps(lids[i], l, [p.name])[p.name];
        if (v === undefined) continue;
        pl.push(lids[i]);
        pv.push(v);
      }
      for (let i = 0; i < pl.length; i += CHUNK) {
        yield {
          t: 'vprops',
          label: label.name,
          prop: p.name,
          lids: Uint32Array.from(pl.slice(i, i + CHUNK)),
          values: packValues(p, pv.slice(i, i + CHUNK)),
        };
        records++;
      }
    }
  }
  // Adjacency, per label and direction, in chunks of whole lists of about CHUNK entries,
  // copied by a kernel that counts as it copies (append-lists.ts). A callback per edge through
  // forEachNeighbor made a checkpoint of a 10M-edge partition take ~0.7 s of its worker's time;
  // degrees and then gatherNeighbors (two passes over the records, two arrays per local id)
  // took about twice as long (scratch/ckpt-pipe.mjs).
  for (let l = 0; l < schema.edgeLabels.length; l++) {
    const label = schema.edgeLabels[l];
    for (const dir of ['out', 'in'] as const) {
      const withAddrs = dir === 'out' && label.props.length > 0;
      // One set of columns, reused: records take exact-size copies (fresh columns per chunk
      // zeroed ~1.5 MB each, most of it never used).
      let out = listColumns(2 * CHUNK, withAddrs);
      for (let k = 0; k < lids.length; ) {
        const next = appendLists(snap, dir, l, lids, k, lids.length, CHUNK, out, withAddrs);
        if (next === k) {
          // The next list holds more entries than the columns.
          out = listColumns(2 * out.nbrs.length, withAddrs);
          continue;
        }
        k = next;
        if (out.lists === 0) continue;
        const n = out.entries;
        yield {
          t: 'adj',
          label: label.name,
          dir,
          rows: out.rows.slice(0, out.lists),
          counts: out.counts.slice(0, out.lists),
          nbrs: out.nbrs.slice(0, n),
        };
        records++;
        if (withAddrs) {
          for (const p of label.props) {
            const values: PropOut[] = new Array(n);
            for (let i = 0; i < n; i++)
              values[i] = snap.edgeProps(l, out.addrs[i], [p.name])[p.name] as PropOut;
            yield { t: 'eprops', label: label.name, prop: p.name, values: packValues(p, values) };
            records++;
          }
        }
      }
    }
  }
  yield { t: 'end', records: records + 1 };
}

function specOf(p: { name: string; type: PropertySpec['type']; length?: number }): PropertySpec {
  return p.length === undefined
    ? { name: p.name, type: p.type }
    : { name: p.name, type: p.type, length: p.length };
}

/** Column-encode property values (undefined entries become the type's absent marker). */
function packValues(
  spec: { type: PropertySpec['type']; length?: number },
  values: (PropOut | undefined)[],
): unknown {
  switch (spec.type) {
    case 'float64':
      return Float64Array.from(values, (v) => (typeof v === 'number' ? v : Number.NaN));
    case 'bool':
      return Uint8Array.from(values, (v) => (v === undefined ? 255 : v === true ? 1 : 0));
    case 'string':
      return values.map((v) => (typeof v === 'string' ? v : null));
    case 'vector': {
      const len = spec.length ?? 0;
      const out = new Float32Array(values.length * len);
      const present = new Uint8Array(values.length);
      values.forEach((v, i) => {
        if (v instanceof Float32Array) {
          out.set(v, i * len);
          present[i] = 1;
        }
      });
      return { flat: out, present };
    }
  }
}

export type { Props };
