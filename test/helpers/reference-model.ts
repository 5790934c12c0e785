/**
 * A deliberately simple reference model of the graph store's semantics (DESIGN §3), used by
 * the property-based tests: plain Maps, no versioning, copied whole per epoch.
 */
import type { ExternalId } from '../../src/model/ids.js';
import type { Op } from '../../src/model/ops.js';
import type { Props, PropValue } from '../../src/model/schema.js';

export type RefProps = Record<string, number | string | boolean | number[]>;
export interface RefVertex {
  label: string;
  props: RefProps;
}
export interface RefState {
  vertices: Map<string, RefVertex>;
  /** label -> "srcKey|dstKey" -> props */
  edges: Map<string, Map<string, RefProps>>;
}

export const keyOf = (id: ExternalId): string => `${typeof id === 'number' ? 'n' : 's'}:${id}`;
export const idOf = (key: string): ExternalId => (key[0] === 'n' ? Number(key.slice(2)) : key.slice(2));

function normalize(props: Props | undefined): RefProps {
  const out: RefProps = {};
  if (props === undefined) return out;
  for (const [k, v] of Object.entries(props)) out[k] = normValue(v);
  return out;
}

function normValue(v: PropValue): number | string | boolean | number[] {
  if (typeof v === 'object') return Array.from(v as ArrayLike<number>, (x) => Math.fround(x));
  return v;
}

function typeOf(v: PropValue): string {
  if (typeof v === 'object') return `vector(${(v as ArrayLike<number>).length})`;
  return typeof v === 'number' ? 'float64' : typeof v === 'boolean' ? 'bool' : 'string';
}

export class ReferenceModel {
  state: RefState = { vertices: new Map(), edges: new Map() };
  private readonly types = new Map<string, string>();

  /** Apply a batch; returns false (and changes nothing) when it has a schema conflict. */
  apply(ops: Op[]): boolean {
    if (!this.check(ops)) return false;
    for (const op of ops) this.applyOp(op);
    return true;
  }

  private check(ops: Op[]): boolean {
    const pending = new Map<string, string>();
    const labels = new Map<string, string>();
    const typeFor = (k: string) => this.types.get(k) ?? pending.get(k);
    const visit = (kind: string, label: string, props: Props | undefined): boolean => {
      for (const [name, v] of Object.entries(props ?? {})) {
        const k = `${kind}|${label}|${name}`;
        const t = typeFor(k);
        if (t === undefined) pending.set(k, typeOf(v));
        else if (t !== typeOf(v)) return false;
      }
      return true;
    };
    for (const op of ops) {
      if (op.op === 'upsertVertex') {
        const key = keyOf(op.id);
        const label = op.label ?? labels.get(key) ?? this.state.vertices.get(key)?.label ?? 'vertex';
        labels.set(key, label);
        if (!visit('v', label, op.props)) return false;
      } else if (op.op === 'upsertEdge') {
        if (!visit('e', op.label ?? 'edge', op.props)) return false;
      } else if (op.op === 'deleteVertex') {
        labels.set(keyOf(op.id), 'vertex');
      }
    }
    for (const [k, t] of pending) this.types.set(k, t);
    return true;
  }

  private ensureVertex(id: ExternalId): void {
    const k = keyOf(id);
    if (!this.state.vertices.has(k)) this.state.vertices.set(k, { label: 'vertex', props: {} });
  }

  private applyOp(op: Op): void {
    const s = this.state;
    switch (op.op) {
      case 'upsertVertex': {
        const k = keyOf(op.id);
        const cur = s.vertices.get(k);
        s.vertices.set(k, { label: op.label ?? cur?.label ?? 'vertex', props: normalize(op.props) });
        return;
      }
      case 'deleteVertex': {
        const k = keyOf(op.id);
        if (!s.vertices.delete(k)) return;
        for (const m of s.edges.values()) {
          for (const ek of [...m.keys()]) {
            const [a, b] = ek.split('|');
            if (a === k || b === k) m.delete(ek);
          }
        }
        return;
      }
      case 'upsertEdge': {
        this.ensureVertex(op.src);
        this.ensureVertex(op.dst);
        const label = op.label ?? 'edge';
        let m = s.edges.get(label);
        if (m === undefined) s.edges.set(label, (m = new Map()));
        m.set(`${keyOf(op.src)}|${keyOf(op.dst)}`, normalize(op.props));
        return;
      }
      case 'deleteEdge':
        s.edges.get(op.label ?? 'edge')?.delete(`${keyOf(op.src)}|${keyOf(op.dst)}`);
        return;
    }
  }

  /** A deep copy of the current state (for comparing a past epoch later). */
  snapshot(): RefState {
    const vertices = new Map<string, RefVertex>();
    for (const [k, v] of this.state.vertices) vertices.set(k, { label: v.label, props: { ...v.props } });
    const edges = new Map<string, Map<string, RefProps>>();
    for (const [l, m] of this.state.edges) edges.set(l, new Map([...m].map(([k, p]) => [k, { ...p }])));
    return { vertices, edges };
  }
}

/** Out- and in-neighbour lists of a vertex in a reference state, sorted, as strings. */
export function refNeighbors(st: RefState, id: ExternalId): { out: string[]; in: string[] } {
  const k = keyOf(id);
  const out: string[] = [];
  const inn: string[] = [];
  for (const [label, m] of st.edges) {
    for (const [ek, props] of m) {
      const [a, b] = ek.split('|');
      if (a === k) out.push(`${label}>${b}${JSON.stringify(sortObj(props))}`);
      if (b === k) inn.push(`${label}<${a}`);
    }
  }
  return { out: out.sort(), in: inn.sort() };
}

export function sortObj<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}
