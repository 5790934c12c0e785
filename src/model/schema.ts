/**
 * Labels and typed properties. Types are inferred on first use and then fixed:
 * number -> float64, string -> string, boolean -> bool, array of numbers of fixed length ->
 * vector (float32, for GNN features). A write whose type conflicts is rejected whole.
 */
import { EpochgraphError, invalid, schemaConflict } from '../errors.js';
import { utf8ByteLength } from './ids.js';

export const PROPERTY_TYPES = ['float64', 'string', 'bool', 'vector'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

export const DEFAULT_VERTEX_LABEL = 'vertex';
export const DEFAULT_EDGE_LABEL = 'edge';
export const MAX_LABEL_BYTES = 128;
export const MAX_PROP_NAME_BYTES = 128;
export const MAX_STRING_PROP_BYTES = 1 << 20;
export const MAX_VECTOR_LENGTH = 65536;
export const MAX_PROPS_PER_ELEMENT = 1024;
const F32_MAX = 3.4028234663852886e38;

/** A property value as it arrives (vectors as number arrays or typed arrays). */
export type PropValue = number | string | boolean | number[] | Float32Array | Float64Array;
export type Props = Record<string, PropValue>;

export interface PropertySpec {
  readonly name: string;
  readonly type: PropertyType;
  /** Vector length (vector only). */
  readonly length?: number;
}

export interface LabelSchema {
  readonly name: string;
  readonly properties: readonly PropertySpec[];
}

/** The schema as users see it (GET /v1/schema). */
export interface SchemaView {
  readonly vertexLabels: readonly LabelSchema[];
  readonly edgeLabels: readonly LabelSchema[];
}

export function checkLabel(label: unknown, where: string): string {
  if (typeof label !== 'string' || label.length === 0)
    throw invalid(`${where}: label must be a non-empty string`);
  if (utf8ByteLength(label) > MAX_LABEL_BYTES)
    throw invalid(`${where}: label is longer than ${MAX_LABEL_BYTES} bytes`);
  return label;
}

/** The type of a property value, or throws INVALID_REQUEST naming the problem. */
export function inferType(value: unknown, where: string): { type: PropertyType; length?: number } {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`${where}: numbers must be finite`);
      return { type: 'float64' };
    case 'string':
      if (value.length > MAX_STRING_PROP_BYTES || utf8ByteLength(value) > MAX_STRING_PROP_BYTES) {
        throw new EpochgraphError('TOO_LARGE', `${where}: string longer than ${MAX_STRING_PROP_BYTES} bytes`);
      }
      return { type: 'string' };
    case 'boolean':
      return { type: 'bool' };
    case 'object': {
      if (value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value)) {
        const arr = value as ArrayLike<unknown>;
        if (arr.length === 0) throw invalid(`${where}: a vector must not be empty`);
        if (arr.length > MAX_VECTOR_LENGTH)
          throw invalid(`${where}: vector longer than ${MAX_VECTOR_LENGTH}`);
        for (let i = 0; i < arr.length; i++) {
          const x = arr[i];
          if (typeof x !== 'number' || !Number.isFinite(x) || Math.abs(x) > F32_MAX) {
            throw invalid(`${where}[${i}]: vector elements must be finite numbers within float32 range`);
          }
        }
        return { type: 'vector', length: arr.length };
      }
      throw invalid(
        `${where}: ${value === null ? 'null' : 'object'} is not a property value (number, string, boolean or number array)`,
      );
    }
    default:
      throw invalid(
        `${where}: ${typeof value} is not a property value (number, string, boolean or number array)`,
      );
  }
}

export function checkPropName(name: string, where: string): void {
  if (name.length === 0) throw invalid(`${where}: property names must not be empty`);
  if (utf8ByteLength(name) > MAX_PROP_NAME_BYTES)
    throw invalid(`${where}: property name longer than ${MAX_PROP_NAME_BYTES} bytes`);
}

/** Validate a props object's shape (names, values) and return its entries. */
export function checkProps(props: unknown, where: string): Props | undefined {
  if (props === undefined) return undefined;
  if (props === null || typeof props !== 'object' || Array.isArray(props)) {
    throw invalid(`${where}: props must be an object`);
  }
  const keys = Object.keys(props);
  if (keys.length > MAX_PROPS_PER_ELEMENT)
    throw invalid(`${where}: more than ${MAX_PROPS_PER_ELEMENT} properties`);
  for (const k of keys) {
    checkPropName(k, `${where}.${k}`);
    inferType((props as Record<string, unknown>)[k], `${where}.${k}`);
  }
  return props as Props;
}

/**
 * A mutable schema with conflict checks. `check` validates without changing anything, so a
 * batch is validated whole before it is applied; `add` records new properties.
 */
export class SchemaModel {
  readonly vertex = new Map<string, Map<string, PropertySpec>>();
  readonly edge = new Map<string, Map<string, PropertySpec>>();

  static fromView(view: SchemaView): SchemaModel {
    const m = new SchemaModel();
    for (const l of view.vertexLabels) m.vertex.set(l.name, new Map(l.properties.map((p) => [p.name, p])));
    for (const l of view.edgeLabels) m.edge.set(l.name, new Map(l.properties.map((p) => [p.name, p])));
    return m;
  }

  /**
   * Check one element's props against the schema plus `pending` (additions earlier in the
   * same batch), recording new properties in pending. Throws SCHEMA_CONFLICT.
   */
  check(
    kind: 'vertex' | 'edge',
    label: string,
    props: Props | undefined,
    pending: SchemaModel,
    where: string,
  ): void {
    if (props === undefined) return;
    const known = (kind === 'vertex' ? this.vertex : this.edge).get(label);
    const pend = kind === 'vertex' ? pending.vertex : pending.edge;
    for (const name of Object.keys(props)) {
      const t = inferType(props[name], `${where}.props.${name}`);
      const spec = known?.get(name) ?? pend.get(label)?.get(name);
      if (spec === undefined) {
        let m = pend.get(label);
        if (m === undefined) pend.set(label, (m = new Map()));
        m.set(
          name,
          t.length === undefined ? { name, type: t.type } : { name, type: t.type, length: t.length },
        );
        continue;
      }
      if (spec.type !== t.type || (spec.type === 'vector' && spec.length !== t.length)) {
        throw schemaConflict(
          `${where}: property "${name}" of ${kind} label "${label}" is ${describe(spec)}, got ${describe(t)}`,
          { label, property: name, expected: describe(spec), got: describe(t) },
        );
      }
    }
  }

  /** Merge pending additions (after a batch validated). Returns true if anything changed. */
  merge(pending: SchemaModel): boolean {
    let changed = false;
    for (const [kind, src] of [
      ['vertex', pending.vertex],
      ['edge', pending.edge],
    ] as const) {
      const dst = kind === 'vertex' ? this.vertex : this.edge;
      for (const [label, props] of src) {
        let m = dst.get(label);
        if (m === undefined) {
          dst.set(label, (m = new Map()));
          changed = true;
        }
        for (const [name, spec] of props) {
          if (!m.has(name)) {
            m.set(name, spec);
            changed = true;
          }
        }
      }
    }
    return changed;
  }

  ensureLabel(kind: 'vertex' | 'edge', label: string): boolean {
    const dst = kind === 'vertex' ? this.vertex : this.edge;
    if (dst.has(label)) return false;
    dst.set(label, new Map());
    return true;
  }

  view(): SchemaView {
    const conv = (m: Map<string, Map<string, PropertySpec>>) =>
      [...m].map(([name, props]) => ({ name, properties: [...props.values()] }));
    return { vertexLabels: conv(this.vertex), edgeLabels: conv(this.edge) };
  }
}

function describe(t: { type: PropertyType; length?: number }): string {
  return t.type === 'vector' ? `vector(${t.length})` : t.type;
}
