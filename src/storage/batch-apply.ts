/**
 * Applying a batch to a partition's open epoch: whole-batch schema validation first (nothing
 * is applied on a conflict), then the ops in order, then the columnar bulk edges
 * (bulk-edges.ts).
 *
 * Ownership: with P partitions, a vertex belongs to partitionOf(id, P). A partition stores its
 * vertices' out-edges (with their properties) and in-edges; the other endpoint of an edge may
 * be remote and then has a local id here too (a "ghost": in the index, never alive). Deleting
 * a vertex deletes its incident edges here and returns, as cascades, the edge deletions that
 * other partitions must apply in the same epoch.
 */
import type { ExternalId } from '../model/ids.js';
import {
  type AppliedCounts,
  type Batch,
  type DeleteEdgeOp,
  type DeleteVertexOp,
  emptyCounts,
  type UpsertVertexOp,
} from '../model/ops.js';
import { DEFAULT_EDGE_LABEL, DEFAULT_VERTEX_LABEL, type Props, SchemaModel } from '../model/schema.js';
import { applyEdgeColumns } from './bulk-edges.js';
import type { StoreCore } from './store-core.js';

export interface ApplyResult {
  applied: AppliedCounts;
  /** Edge deletions owed by other partitions (edges of deleted vertices). */
  cascades: DeleteEdgeOp[];
}

/**
 * Apply a decoded batch to the open epoch. The whole batch is checked against the schema
 * first; on a conflict nothing is applied. (Structural validation is decodeBatch's job.)
 */
export function applyBatch(core: StoreCore, batch: Batch): ApplyResult {
  validateBatch(core, batch);
  const O = core.open;
  const pub = core.pub;
  const counts = emptyCounts();
  const cascades: DeleteEdgeOp[] = [];
  for (const op of batch.ops) {
    switch (op.op) {
      case 'upsertVertex':
        upsertVertex(core, op, O, pub, counts);
        break;
      case 'deleteVertex':
        deleteVertex(core, op, O, pub, counts, cascades);
        break;
      case 'upsertEdge':
        upsertEdge(core, op.src, op.dst, op.label, op.props, O, pub, counts);
        break;
      case 'deleteEdge':
        deleteEdge(core, op, O, counts);
        break;
    }
  }
  if (batch.edges !== undefined) applyEdgeColumns(core, batch.edges, O, pub, counts);
  return { applied: counts, cascades };
}

export function validateBatch(core: StoreCore, batch: Batch): void {
  const pending = new SchemaModel();
  const pendingLabel = new Map<ExternalId, string>();
  for (let i = 0; i < batch.ops.length; i++) {
    const op = batch.ops[i];
    if (op.op === 'upsertVertex') {
      const label = op.label ?? pendingLabel.get(op.id) ?? core.currentLabel(op.id) ?? DEFAULT_VERTEX_LABEL;
      pendingLabel.set(op.id, label);
      core.schema.check('vertex', label, op.props, pending, `ops[${i}]`);
    } else if (op.op === 'upsertEdge') {
      core.schema.check('edge', op.label ?? DEFAULT_EDGE_LABEL, op.props, pending, `ops[${i}]`);
    } else if (op.op === 'deleteVertex') {
      // Re-created later in the batch, it starts over with the default label.
      pendingLabel.set(op.id, DEFAULT_VERTEX_LABEL);
    }
  }
  const e = batch.edges;
  if (e?.props !== undefined && e.src.length > 0) {
    const sample: Props = {};
    for (const [name, col] of Object.entries(e.props)) sample[name] = col[0];
    core.schema.check('edge', e.label ?? DEFAULT_EDGE_LABEL, sample, pending, 'edges');
  }
  if (core.schema.merge(pending)) core.schemaDirty = true;
  for (const [label, props] of pending.vertex) {
    const lid = core.vertices.labelId(label);
    for (const spec of props.values()) core.vertices.addProp(lid, spec);
  }
  for (const [label, props] of pending.edge) {
    const L = core.edgeLabel(label);
    for (const spec of props.values()) core.addEdgeProp(L, spec);
  }
}

function upsertVertex(
  core: StoreCore,
  op: UpsertVertexOp,
  O: number,
  pub: number,
  counts: AppliedCounts,
): void {
  if (!core.owns(op.id)) return;
  const lid = core.ids.lookupOrInsert(op.id);
  core.ensureLid(lid);
  const vt = core.vertices;
  let labelId: number;
  if (!vt.isAlive(lid)) {
    labelId = vt.labelId(op.label ?? DEFAULT_VERTEX_LABEL);
    vt.create(lid, labelId, O, pub);
    core.changed = true;
  } else {
    const cur = vt.labelOf(lid);
    labelId = op.label === undefined ? cur : vt.labelId(op.label);
    if (labelId !== cur) {
      vt.clearProps(lid, cur, O, pub);
      vt.setLabel(lid, labelId, O, pub);
      core.changed = true;
    }
  }
  if (vt.replaceProps(lid, labelId, op.props, O, pub)) core.changed = true;
  counts.upsertedVertices++;
}

function deleteVertex(
  core: StoreCore,
  op: DeleteVertexOp,
  O: number,
  pub: number,
  counts: AppliedCounts,
  cascades: DeleteEdgeOp[],
): void {
  if (!core.owns(op.id)) return;
  const v = core.ids.views.lookup(op.id);
  if (v < 0 || !core.vertices.isAlive(v)) return;
  const ext = (lid: number) => core.ids.views.externalId(lid);
  for (const L of core.edgeLabels) {
    core.ensureStores(L, v);
    const outs: number[] = [];
    L.out.forEachLive(v, (t, addr) => outs.push(t, addr));
    for (let i = 0; i < outs.length; i += 2) {
      const t = outs[i];
      core.retireEdgeBlobs(L, outs[i + 1], O, pub);
      L.out.deleteEntry(v, outs[i + 1], O);
      core.edgeCount--;
      const tid = ext(t);
      if (core.owns(tid)) {
        const a = L.in.find(t, v);
        if (a !== 0) L.in.deleteEntry(t, a, O);
      } else cascades.push({ op: 'deleteEdge', src: op.id, dst: tid, label: L.name });
    }
    const ins: number[] = [];
    L.in.forEachLive(v, (u, addr) => ins.push(u, addr));
    for (let i = 0; i < ins.length; i += 2) {
      const u = ins[i];
      L.in.deleteEntry(v, ins[i + 1], O);
      const uid = ext(u);
      if (core.owns(uid)) {
        const a = L.out.find(u, v);
        if (a !== 0) {
          core.retireEdgeBlobs(L, a, O, pub);
          L.out.deleteEntry(u, a, O);
          core.edgeCount--;
        }
      } else cascades.push({ op: 'deleteEdge', src: uid, dst: op.id, label: L.name });
    }
  }
  core.vertices.delete(v, O, pub);
  core.changed = true;
  counts.deletedVertices++;
}

function upsertEdge(
  core: StoreCore,
  src: ExternalId,
  dst: ExternalId,
  label: string | undefined,
  props: Props | undefined,
  O: number,
  pub: number,
  counts: AppliedCounts,
): void {
  const ownS = core.owns(src);
  const ownD = core.owns(dst);
  if (!ownS && !ownD) return;
  const L = core.edgeLabel(label ?? DEFAULT_EDGE_LABEL);
  const s = core.ids.lookupOrInsert(src);
  const d = core.ids.lookupOrInsert(dst);
  core.ensureLid(Math.max(s, d));
  core.ensureStores(L, Math.max(s, d));
  const vt = core.vertices;
  if (ownS && !vt.isAlive(s)) vt.create(s, vt.labelId(DEFAULT_VERTEX_LABEL), O, pub);
  if (ownD && !vt.isAlive(d)) vt.create(d, vt.labelId(DEFAULT_VERTEX_LABEL), O, pub);
  let outAddr = 0;
  let exists: boolean;
  if (ownS && ownD) {
    // Check the shorter of out(s) and in(d).
    if (L.in.length(d) < L.out.length(s)) {
      exists = L.in.find(d, s) !== 0;
      if (exists) outAddr = L.out.find(s, d);
    } else {
      outAddr = L.out.find(s, d);
      exists = outAddr !== 0;
    }
  } else if (ownS) {
    outAddr = L.out.find(s, d);
    exists = outAddr !== 0;
  } else {
    exists = L.in.find(d, s) !== 0;
  }
  if (ownS) counts.upsertedEdges++;
  if (exists) {
    if (ownS && !core.sameEdgeProps(L, outAddr, props)) {
      // Replace: the old entry stays visible to older epochs; the new one carries the props.
      core.retireEdgeBlobs(L, outAddr, O, pub);
      L.out.deleteEntry(s, outAddr, O);
      const a = L.out.append(s, d, O, pub);
      core.writeEdgeProps(L, a, props);
      core.changed = true;
    }
    return;
  }
  if (ownS) {
    const a = L.out.append(s, d, O, pub);
    core.writeEdgeProps(L, a, props);
    core.edgeCount++;
  }
  if (ownD) L.in.append(d, s, O, pub);
  core.changed = true;
}

function deleteEdge(core: StoreCore, op: DeleteEdgeOp, O: number, counts: AppliedCounts): void {
  const lid = core.edgeLabelIds.get(op.label ?? DEFAULT_EDGE_LABEL);
  if (lid === undefined) return;
  const L = core.edgeLabels[lid];
  const s = core.ids.views.lookup(op.src);
  const d = core.ids.views.lookup(op.dst);
  if (s < 0 || d < 0) return;
  core.ensureStores(L, Math.max(s, d));
  if (core.owns(op.src)) {
    const a = L.out.find(s, d);
    if (a !== 0) {
      core.retireEdgeBlobs(L, a, O, core.pub);
      L.out.deleteEntry(s, a, O);
      core.edgeCount--;
      counts.deletedEdges++;
      core.changed = true;
    }
  }
  if (core.owns(op.dst)) {
    const a = L.in.find(d, s);
    if (a !== 0) {
      L.in.deleteEntry(d, a, O);
      core.changed = true;
    }
  }
}
