/**
 * Rebuilding a partition from a logical checkpoint (see checkpoint-codec.ts): labels and
 * property columns in their original order, external ids at their original local ids,
 * vertices, and adjacency rows bulk-loaded into exact extents. Every input is checked; a
 * mismatch is a corrupt checkpoint.
 */
import { EpochgraphError } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import type { PropertySpec, PropValue } from '../model/schema.js';
import type { StoreCore } from './store-core.js';

const bad = (why: string) =>
  new EpochgraphError('INTERNAL', `corrupt checkpoint: ${why}`, { reason: 'DATA_CORRUPT' });

export interface RestoreLabel {
  name: string;
  properties: PropertySpec[];
}

export function restoreSchema(
  core: StoreCore,
  vertexLabels: RestoreLabel[],
  edgeLabels: RestoreLabel[],
): void {
  for (const l of vertexLabels) {
    const id = core.vertices.labelId(l.name);
    for (const p of l.properties) core.vertices.addProp(id, p);
    const m = new Map(l.properties.map((p) => [p.name, p]));
    core.schema.vertex.set(l.name, m);
  }
  for (const l of edgeLabels) {
    const L = core.edgeLabel(l.name);
    for (const p of l.properties) core.addEdgeProp(L, p);
    core.schema.edge.set(l.name, new Map(l.properties.map((p) => [p.name, p])));
  }
  core.schemaDirty = true;
}

export function restoreKey(core: StoreCore, id: ExternalId, lid: number): void {
  if (!core.ids.restoreAt(id, lid))
    throw bad(`id ${JSON.stringify(id)} at local id ${lid}: listed twice or out of order`);
}

export function restoreVertices(
  core: StoreCore,
  lids: Uint32Array,
  labels: Uint32Array,
  created: Uint32Array,
): void {
  const vt = core.vertices;
  for (let i = 0; i < lids.length; i++) {
    const lid = lids[i];
    if (!core.ids.assigned(lid)) throw bad(`vertex at unknown local id ${lid}`);
    if (labels[i] >= vt.labels.length) throw bad(`vertex ${lid} has unknown label ${labels[i]}`);
    core.ensureLid(lid);
    if (vt.isAlive(lid)) throw bad(`vertex ${lid} listed twice`);
    vt.create(lid, labels[i], core.open, core.pub, created[i]);
  }
  core.changed = true;
}

export function restoreVertexProps(
  core: StoreCore,
  label: string,
  prop: string,
  lids: Uint32Array,
  value: (spec: PropertySpec, i: number) => PropValue | undefined,
): void {
  const vt = core.vertices;
  const lid = vt.labelIds.get(label);
  const p = lid === undefined ? undefined : vt.labels[lid].props.get(prop);
  if (lid === undefined || p === undefined) throw bad(`property ${label}.${prop} is not in the header`);
  for (let i = 0; i < lids.length; i++) {
    if (!vt.isAlive(lids[i]) || vt.labelOf(lids[i]) !== lid)
      throw bad(`property of a missing ${label} vertex`);
    const v = value(p.spec, i);
    if (v !== undefined) vt.writeValue(p, lids[i], v, core.open, core.pub);
  }
}

/** Load adjacency rows; returns the entry address of every neighbour (for edge properties). */
export function restoreRows(
  core: StoreCore,
  label: string,
  dir: 'out' | 'in',
  rows: Uint32Array,
  counts: Uint32Array,
  nbrs: Uint32Array,
): Uint32Array {
  const id = core.edgeLabelIds.get(label);
  if (id === undefined) throw bad(`edge label "${label}" is not in the header`);
  const L = core.edgeLabels[id];
  for (let i = 0; i < nbrs.length; i++)
    if (!core.ids.assigned(nbrs[i])) throw bad(`neighbour ${nbrs[i]} is unknown`);
  let top = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i];
    if (!core.ids.assigned(v) || !core.vertices.isAlive(v)) throw bad(`row ${v} is not a vertex`);
    if (i > 0 && v <= rows[i - 1]) throw bad('rows are not in increasing order');
    top = Math.max(top, v);
  }
  core.ensureStores(L, Math.max(top, core.ids.bound - 1));
  const store = dir === 'out' ? L.out : L.in;
  const addrs = store.loadRows(rows, counts, nbrs);
  if (dir === 'out') core.edgeCount += nbrs.length;
  core.changed = true;
  return addrs;
}

export function restoreEdgeProps(
  core: StoreCore,
  label: string,
  prop: string,
  addrs: Uint32Array,
  value: (spec: PropertySpec, i: number) => PropValue | undefined,
): void {
  const id = core.edgeLabelIds.get(label);
  const p = id === undefined ? undefined : core.edgeLabels[id].props.get(prop);
  if (p === undefined) throw bad(`edge property ${label}.${prop} is not in the header`);
  for (let i = 0; i < addrs.length; i++) {
    const v = value(p.spec, i);
    if (v === undefined) p.column.clear(addrs[i]);
    else core.writeEdgeProp(p, addrs[i], v);
  }
}
