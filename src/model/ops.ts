/**
 * The operations of a batch, and a checked decoder for batches from outside (HTTP bodies,
 * WAL records, worker messages). A batch is validated whole; the first problem is reported
 * with the path of the op (for example `ops[3].src: id -1 is negative`).
 */
import { invalid } from '../errors.js';
import { checkIdColumn, type ExternalId, externalIdProblem } from './ids.js';
import { checkLabel, checkProps, inferType, type Props, type PropValue } from './schema.js';

export const OP_KINDS = ['upsertVertex', 'deleteVertex', 'upsertEdge', 'deleteEdge'] as const;
export type OpKind = (typeof OP_KINDS)[number];

export interface UpsertVertexOp {
  op: 'upsertVertex';
  id: ExternalId;
  label?: string;
  props?: Props;
}
export interface DeleteVertexOp {
  op: 'deleteVertex';
  id: ExternalId;
}
export interface UpsertEdgeOp {
  op: 'upsertEdge';
  src: ExternalId;
  dst: ExternalId;
  label?: string;
  props?: Props;
}
export interface DeleteEdgeOp {
  op: 'deleteEdge';
  src: ExternalId;
  dst: ExternalId;
  label?: string;
}
export type Op = UpsertVertexOp | DeleteVertexOp | UpsertEdgeOp | DeleteEdgeOp;

/** A column of ids: numbers (plain or typed arrays) or strings. */
export type IdColumn = ArrayLike<ExternalId>;
/** A column of edge property values, one per edge. */
export type PropColumn = ArrayLike<PropValue>;

/** The columnar bulk form: many edges of one label, props as columns. */
export interface EdgeColumns {
  src: IdColumn;
  dst: IdColumn;
  label?: string;
  props?: Record<string, PropColumn>;
}

export interface Batch {
  ops: Op[];
  edges?: EdgeColumns;
}

export const MAX_OPS_PER_BATCH = 1_000_000;
export const MAX_EDGES_PER_BATCH = 10_000_000;

export interface AppliedCounts {
  upsertedVertices: number;
  deletedVertices: number;
  upsertedEdges: number;
  deletedEdges: number;
}

export function emptyCounts(): AppliedCounts {
  return { upsertedVertices: 0, deletedVertices: 0, upsertedEdges: 0, deletedEdges: 0 };
}

export function addCounts(a: AppliedCounts, b: AppliedCounts): AppliedCounts {
  a.upsertedVertices += b.upsertedVertices;
  a.deletedVertices += b.deletedVertices;
  a.upsertedEdges += b.upsertedEdges;
  a.deletedEdges += b.deletedEdges;
  return a;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function id(v: unknown, where: string): ExternalId {
  const p = externalIdProblem(v);
  if (p !== null) throw invalid(`${where}: ${p}`);
  return v as ExternalId;
}

const ALLOWED_KEYS: Record<OpKind, readonly string[]> = {
  upsertVertex: ['op', 'id', 'label', 'props'],
  deleteVertex: ['op', 'id'],
  upsertEdge: ['op', 'src', 'dst', 'label', 'props'],
  deleteEdge: ['op', 'src', 'dst', 'label'],
};

/** Decode and validate one op. */
export function decodeOp(raw: unknown, where: string): Op {
  if (!isRecord(raw)) throw invalid(`${where}: an op must be an object`);
  const kind = raw.op;
  if (typeof kind !== 'string' || !(OP_KINDS as readonly string[]).includes(kind)) {
    throw invalid(`${where}.op: must be one of ${OP_KINDS.join(', ')}`);
  }
  const k = kind as OpKind;
  for (const key of Object.keys(raw)) {
    if (!ALLOWED_KEYS[k].includes(key)) throw invalid(`${where}: unknown field "${key}" for ${k}`);
  }
  const label = raw.label === undefined ? undefined : checkLabel(raw.label, `${where}.label`);
  switch (k) {
    case 'upsertVertex': {
      const props = checkProps(raw.props, `${where}.props`);
      const op: UpsertVertexOp = { op: k, id: id(raw.id, `${where}.id`) };
      if (label !== undefined) op.label = label;
      if (props !== undefined) op.props = props;
      return op;
    }
    case 'deleteVertex':
      return { op: k, id: id(raw.id, `${where}.id`) };
    case 'upsertEdge': {
      const props = checkProps(raw.props, `${where}.props`);
      const op: UpsertEdgeOp = { op: k, src: id(raw.src, `${where}.src`), dst: id(raw.dst, `${where}.dst`) };
      if (label !== undefined) op.label = label;
      if (props !== undefined) op.props = props;
      return op;
    }
    case 'deleteEdge': {
      const op: DeleteEdgeOp = { op: k, src: id(raw.src, `${where}.src`), dst: id(raw.dst, `${where}.dst`) };
      if (label !== undefined) op.label = label;
      return op;
    }
  }
}

function idColumn(v: unknown, where: string): IdColumn {
  if (v instanceof Float64Array || v instanceof Uint32Array || v instanceof Int32Array) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!(x >= 0 && Number.isSafeInteger(x))) throw invalid(`${where}[${i}]: ${externalIdProblem(x)}`);
    }
    return v;
  }
  if (!Array.isArray(v)) throw invalid(`${where}: must be an array of ids`);
  checkIdColumn(v, where);
  return v as ExternalId[];
}

/** Decode the columnar bulk edge form. */
export function decodeEdgeColumns(raw: unknown, where: string): EdgeColumns {
  if (!isRecord(raw)) throw invalid(`${where}: must be an object { src, dst, label?, props? }`);
  for (const key of Object.keys(raw)) {
    if (!['src', 'dst', 'label', 'props'].includes(key)) throw invalid(`${where}: unknown field "${key}"`);
  }
  const src = idColumn(raw.src, `${where}.src`);
  const dst = idColumn(raw.dst, `${where}.dst`);
  if (src.length !== dst.length)
    throw invalid(`${where}: src has ${src.length} ids but dst has ${dst.length}`);
  if (src.length > MAX_EDGES_PER_BATCH)
    throw invalid(`${where}: more than ${MAX_EDGES_PER_BATCH} edges in one batch`);
  const out: EdgeColumns = { src, dst };
  if (raw.label !== undefined) out.label = checkLabel(raw.label, `${where}.label`);
  if (raw.props !== undefined) {
    if (!isRecord(raw.props)) throw invalid(`${where}.props: must be an object of columns`);
    const props: Record<string, PropColumn> = {};
    for (const [name, col] of Object.entries(raw.props)) {
      const w = `${where}.props.${name}`;
      if (!(Array.isArray(col) || col instanceof Float64Array || col instanceof Float32Array)) {
        throw invalid(`${w}: must be an array with one value per edge`);
      }
      if (col.length !== src.length) throw invalid(`${w}: has ${col.length} values for ${src.length} edges`);
      // A column must be of one type; check it whole here so apply cannot fail midway.
      let first: string | null = null;
      for (let i = 0; i < col.length; i++) {
        const t = inferType(col[i], `${w}[${i}]`);
        const d = t.type === 'vector' ? `vector(${t.length})` : t.type;
        if (first === null) first = d;
        else if (d !== first) throw invalid(`${w}[${i}]: ${d} in a column of ${first}`);
      }
      props[name] = col as PropColumn;
    }
    out.props = props;
  }
  return out;
}

/** Decode a batch `{ ops?: [...], edges?: {...} }` from untrusted input. */
export function decodeBatch(raw: unknown): Batch {
  if (!isRecord(raw)) throw invalid('a batch must be an object { ops: [...] } or { edges: {...} }');
  for (const key of Object.keys(raw)) {
    if (key !== 'ops' && key !== 'edges') throw invalid(`batch: unknown field "${key}"`);
  }
  if (raw.ops === undefined && raw.edges === undefined) throw invalid('a batch needs "ops" or "edges"');
  const ops: Op[] = [];
  if (raw.ops !== undefined) {
    if (!Array.isArray(raw.ops)) throw invalid('ops: must be an array');
    if (raw.ops.length > MAX_OPS_PER_BATCH)
      throw invalid(`ops: more than ${MAX_OPS_PER_BATCH} ops in one batch`);
    for (let i = 0; i < raw.ops.length; i++) ops.push(decodeOp(raw.ops[i], `ops[${i}]`));
  }
  const batch: Batch = { ops };
  if (raw.edges !== undefined) batch.edges = decodeEdgeColumns(raw.edges, 'edges');
  return batch;
}

/** The number of edges and ops a batch holds (for limits and metrics). */
export function batchSize(b: Batch): number {
  return b.ops.length + (b.edges?.src.length ?? 0);
}
