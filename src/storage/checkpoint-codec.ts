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
 *            (string ids have nums[i] = -1 and appear in strs)
 *   vertices { t, lids: Uint32Array, labels: Uint32Array, created: Uint32Array }
 *   vprops   { t, label, prop, lids: Uint32Array, values }  values: Float64Array (float64),
 *            Uint8Array 0/1 (bool), string[] (string), Float32Array flat (vector)
 *   adj      { t, label, dir, rows: Uint32Array, counts: Uint32Array, nbrs: Uint32Array }
 *   eprops   { t, label, prop, values }  aligned with the previous out `adj` record's nbrs;
 *            absent values: NaN (float64), 255 (bool), null (string), empty vector
 *   end      { t, records }
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import { PROPERTY_TYPES, type PropertySpec, type Props, type PropValue } from '../model/schema.js';
import { PartitionStore, type PartitionStoreOptions } from './partition-store.js';
import type { PropOut, Snapshot } from './snapshot.js';

export const CHECKPOINT_VERSION = 1;
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
  for (let from = 0; from < meta.lids; from += CHUNK) {
    const n = Math.min(CHUNK, meta.lids - from);
    const nums = new Float64Array(n);
    const strs: [number, string][] = [];
    for (let i = 0; i < n; i++) {
      const id = snap.externalId(from + i);
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
  const lids: number[] = [];
  const labels: number[] = [];
  snap.forEachVertex((lid, label) => {
    lids.push(lid);
    labels.push(label);
  });
  for (let i = 0; i < lids.length; i += CHUNK) {
    const part = lids.slice(i, i + CHUNK);
    const created = new Uint32Array(part.length);
    for (let j = 0; j < part.length; j++) created[j] = snap.createdEpoch(part[j]);
    yield {
      t: 'vertices',
      lids: Uint32Array.from(part),
      labels: Uint32Array.from(labels.slice(i, i + CHUNK)),
      created,
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
  // Adjacency, per label and direction, in row chunks of about CHUNK entries.
  for (let l = 0; l < schema.edgeLabels.length; l++) {
    const label = schema.edgeLabels[l];
    for (const dir of ['out', 'in'] as const) {
      let rows: number[] = [];
      let counts: number[] = [];
      let nbrs: number[] = [];
      let addrs: number[] = [];
      const flush = function* (): Generator<CheckpointRecord> {
        if (rows.length === 0) return;
        yield {
          t: 'adj',
          label: label.name,
          dir,
          rows: Uint32Array.from(rows),
          counts: Uint32Array.from(counts),
          nbrs: Uint32Array.from(nbrs),
        };
        records++;
        if (dir === 'out') {
          for (const p of label.props) {
            const values: PropOut[] = addrs.map((a) => snap.edgeProps(l, a, [p.name])[p.name] as PropOut);
            yield { t: 'eprops', label: label.name, prop: p.name, values: packValues(p, values) };
            records++;
          }
        }
        rows = [];
        counts = [];
        nbrs = [];
        addrs = [];
      };
      for (const lid of lids) {
        let c = 0;
        snap.forEachNeighbor(lid, dir, l, (nbr, addr) => {
          nbrs.push(nbr);
          if (dir === 'out') addrs.push(addr);
          c++;
        });
        if (c === 0) continue;
        rows.push(lid);
        counts.push(c);
        if (nbrs.length >= CHUNK) yield* flush();
      }
      yield* flush();
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

const bad = (why: string) =>
  new EpochgraphError('INTERNAL', `corrupt checkpoint: ${why}`, { reason: 'DATA_CORRUPT' });

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function u32(v: unknown, what: string): Uint32Array {
  if (v instanceof Uint32Array) return v;
  throw bad(`${what} must be a Uint32Array`);
}

function checkLabels(v: unknown, what: string): CheckpointLabel[] {
  if (!Array.isArray(v)) throw bad(`${what} must be an array`);
  return v.map((l) => {
    if (!isObj(l) || typeof l.name !== 'string' || !Array.isArray(l.properties))
      throw bad(`${what}: bad label`);
    for (const p of l.properties) {
      if (
        !isObj(p) ||
        typeof p.name !== 'string' ||
        !(PROPERTY_TYPES as readonly string[]).includes(p.type as string)
      ) {
        throw bad(`${what}: bad property of "${l.name}"`);
      }
    }
    return l as unknown as CheckpointLabel;
  });
}

/**
 * Rebuild a partition from checkpoint records. The store comes back published at the
 * checkpoint's epoch, with the same local ids; nothing older is readable.
 */
export async function restoreCheckpoint(
  records: AsyncIterable<unknown> | Iterable<unknown>,
  opts: Pick<PartitionStoreOptions, 'limits'> = {},
): Promise<PartitionStore> {
  let store: PartitionStore | null = null;
  let header: CheckpointHeader | null = null;
  let count = 0;
  let ended = false;
  let lastOut: { label: string; rows: Uint32Array; counts: Uint32Array; addrs: Uint32Array } | null = null;
  for await (const raw of records) {
    count++;
    if (ended) throw bad('records after the end record');
    if (!isObj(raw) || typeof raw.t !== 'string') throw bad(`record ${count} is not an object with a type`);
    if (header === null) {
      if (raw.t !== 'header') throw bad('the first record is not a header');
      if (raw.version !== CHECKPOINT_VERSION) throw bad(`unsupported version ${String(raw.version)}`);
      for (const k of [
        'partition',
        'partitions',
        'epoch',
        'lids',
        'vertices',
        'edges',
        'sealedAtMs',
      ] as const) {
        if (typeof raw[k] !== 'number' || !Number.isSafeInteger(raw[k]) || (raw[k] as number) < 0) {
          throw bad(`header.${k} is not a non-negative integer`);
        }
      }
      header = {
        ...(raw as unknown as CheckpointHeader),
        vertexLabels: checkLabels(raw.vertexLabels, 'header.vertexLabels'),
        edgeLabels: checkLabels(raw.edgeLabels, 'header.edgeLabels'),
      };
      if (header.epoch < 1) throw bad('header.epoch must be ≥ 1');
      store = PartitionStore.create({
        partition: header.partition,
        partitions: header.partitions,
        initialEpoch: header.epoch - 1,
        limits: opts.limits,
      });
      store.restoreSchema(header.vertexLabels, header.edgeLabels);
      continue;
    }
    const s = store as PartitionStore;
    switch (raw.t) {
      case 'keys': {
        const nums = raw.nums;
        if (!(nums instanceof Float64Array) || typeof raw.from !== 'number' || !Array.isArray(raw.strs))
          throw bad('keys record');
        const strs = new Map<number, string>();
        for (const e of raw.strs as unknown[]) {
          if (!Array.isArray(e) || typeof e[0] !== 'number' || typeof e[1] !== 'string')
            throw bad('keys.strs entry');
          strs.set(e[0], e[1]);
        }
        for (let i = 0; i < nums.length; i++) {
          const id: ExternalId | undefined = nums[i] === -1 ? strs.get(i) : nums[i];
          if (id === undefined) throw bad(`keys: missing string id at ${raw.from + i}`);
          s.restoreKey(id, raw.from + i);
        }
        break;
      }
      case 'vertices': {
        const lids = u32(raw.lids, 'vertices.lids');
        const labels = u32(raw.labels, 'vertices.labels');
        const created = u32(raw.created, 'vertices.created');
        if (labels.length !== lids.length || created.length !== lids.length)
          throw bad('vertices: column lengths differ');
        s.restoreVertices(lids, labels, created);
        break;
      }
      case 'vprops': {
        if (typeof raw.label !== 'string' || typeof raw.prop !== 'string') throw bad('vprops record');
        const lids = u32(raw.lids, 'vprops.lids');
        s.restoreVertexProps(raw.label, raw.prop, lids, (spec, i) =>
          unpackValue(spec, raw.values, i, lids.length),
        );
        break;
      }
      case 'adj': {
        if (typeof raw.label !== 'string' || (raw.dir !== 'out' && raw.dir !== 'in')) throw bad('adj record');
        const rows = u32(raw.rows, 'adj.rows');
        const counts = u32(raw.counts, 'adj.counts');
        const nbrs = u32(raw.nbrs, 'adj.nbrs');
        if (counts.length !== rows.length) throw bad('adj: rows and counts differ in length');
        let total = 0;
        for (let i = 0; i < counts.length; i++) total += counts[i];
        if (total !== nbrs.length) throw bad('adj: counts do not add up to the neighbours');
        const addrs = s.restoreRows(raw.label, raw.dir, rows, counts, nbrs);
        lastOut = raw.dir === 'out' ? { label: raw.label, rows, counts, addrs } : null;
        break;
      }
      case 'eprops': {
        if (lastOut === null || raw.label !== lastOut.label || typeof raw.prop !== 'string') {
          throw bad('eprops record without its out adjacency');
        }
        const addrs = lastOut.addrs;
        s.restoreEdgeProps(raw.label, raw.prop, addrs, (spec, i) =>
          unpackValue(spec, raw.values, i, addrs.length),
        );
        break;
      }
      case 'end':
        if (raw.records !== count)
          throw bad(`end record counts ${String(raw.records)} records, read ${count}`);
        ended = true;
        break;
      default:
        throw bad(`unknown record type "${raw.t}"`);
    }
  }
  if (header === null || store === null) throw bad('no header');
  if (!ended) throw bad('missing end record (truncated)');
  const s = store;
  const info = s.seal(header.sealedAtMs);
  if (info.epoch !== header.epoch) throw bad('epoch mismatch after restore');
  if (info.vertices !== header.vertices || info.edges !== header.edges) {
    throw bad(
      `counts differ: header says ${header.vertices} vertices / ${header.edges} edges, got ${info.vertices} / ${info.edges}`,
    );
  }
  s.retain(header.epoch);
  return s;
}

function unpackValue(spec: PropertySpec, values: unknown, i: number, n: number): PropValue | undefined {
  switch (spec.type) {
    case 'float64': {
      if (!(values instanceof Float64Array) || values.length !== n) throw bad('float64 property column');
      const x = values[i];
      return Number.isNaN(x) ? undefined : x;
    }
    case 'bool': {
      if (!(values instanceof Uint8Array) || values.length !== n) throw bad('bool property column');
      return values[i] === 255 ? undefined : values[i] === 1;
    }
    case 'string': {
      if (!Array.isArray(values) || values.length !== n) throw bad('string property column');
      const v = values[i];
      if (v === null) return undefined;
      if (typeof v !== 'string') throw bad('string property value');
      return v;
    }
    case 'vector': {
      const len = spec.length ?? 0;
      if (
        !isObj(values) ||
        !(values.flat instanceof Float32Array) ||
        !(values.present instanceof Uint8Array)
      ) {
        throw bad('vector property column');
      }
      if (values.present.length !== n || values.flat.length !== n * len)
        throw bad('vector property column size');
      return values.present[i] === 1 ? values.flat.subarray(i * len, (i + 1) * len) : undefined;
    }
  }
}

export type { Props };
