/**
 * Restoring a partition from logical checkpoint records (the format is in checkpoint-codec.ts).
 * The records come back from a file, so each one is checked before use and any mismatch is a
 * corrupt checkpoint; the checked columns go to the store's restore methods (store-restore.ts
 * does the rebuilding).
 *
 * Separate from the encoder: encoding reads a Snapshot, in any thread, while the writer goes
 * on; restoring creates a PartitionStore and is its only writer. The two share only the record
 * format.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import { PROPERTY_TYPES, type PropertySpec, type PropValue } from '../model/schema.js';
import {
  CHECKPOINT_VERSION,
  type CheckpointHeader,
  type CheckpointLabel,
  DENSE_IDS_VERSION,
} from './checkpoint-codec.js';
import { PartitionStore, type PartitionStoreOptions } from './partition-store.js';

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
  let keysOpen = true;
  /** NaN keys are holes (version 2 on); in a dense (version 1) checkpoint they are errors. */
  let holes = false;
  for await (const raw of records) {
    count++;
    if (ended) throw bad('records after the end record');
    if (!isObj(raw) || typeof raw.t !== 'string') throw bad(`record ${count} is not an object with a type`);
    if (header === null) {
      if (raw.t !== 'header') throw bad('the first record is not a header');
      if (raw.version !== CHECKPOINT_VERSION && raw.version !== DENSE_IDS_VERSION)
        throw bad(`unsupported version ${String(raw.version)}`);
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
      holes = header.version !== DENSE_IDS_VERSION;
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
    if (keysOpen && raw.t !== 'keys') {
      // Every id is in: the open segments follow from where the ids stop.
      s.finishKeys();
      keysOpen = false;
    }
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
          const x = nums[i];
          // NaN: a local id no id has (a hole in an open segment: id-index.ts).
          if (Number.isNaN(x) && holes) continue;
          const id: ExternalId | undefined = x === -1 ? strs.get(i) : x;
          if (id === undefined) throw bad(`keys: missing string id at ${raw.from + i}`);
          if (typeof id === 'number' && !(Number.isSafeInteger(id) && id >= 0))
            throw bad(`keys: ${id} at ${raw.from + i} is not an id`);
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
  if (keysOpen) s.finishKeys();
  const info = s.seal(header.sealedAtMs);
  if (info.epoch !== header.epoch) throw bad('epoch mismatch after restore');
  if (info.lids !== header.lids)
    throw bad(`header says ${header.lids} local ids, the keys end at ${info.lids}`);
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
