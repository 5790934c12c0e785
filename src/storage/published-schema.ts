/**
 * The structural schema the writer publishes for readers (JSON in a blob, pointer in the
 * control block): which record table or edge column holds what. Readers parse it with the
 * checked decoder below, since it crosses a thread boundary through shared memory.
 */
import { EpochgraphError } from '../errors.js';
import { PROPERTY_TYPES, type PropertyType } from '../model/schema.js';

export interface PublishedVertexProp {
  name: string;
  type: PropertyType;
  length?: number;
  table: number;
}
export interface PublishedEdgeProp {
  name: string;
  type: PropertyType;
  length?: number;
  ecol: number;
  kind: 'f64' | 'u32';
}
export interface PublishedSchema {
  core: number;
  vertexLabels: { name: string; props: PublishedVertexProp[] }[];
  edgeLabels: { name: string; out: number; in: number; props: PublishedEdgeProp[] }[];
}

const bad = (why: string) => new EpochgraphError('INTERNAL', `corrupt published schema: ${why}`);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isType = (v: unknown): v is PropertyType =>
  typeof v === 'string' && (PROPERTY_TYPES as readonly string[]).includes(v);

export function parsePublishedSchema(json: string): PublishedSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw bad('not JSON');
  }
  const o = raw as Partial<PublishedSchema>;
  if (!isInt(o.core) || !Array.isArray(o.vertexLabels) || !Array.isArray(o.edgeLabels)) throw bad('shape');
  for (const l of o.vertexLabels) {
    if (typeof l?.name !== 'string' || !Array.isArray(l.props)) throw bad('vertex label');
    for (const p of l.props)
      if (typeof p?.name !== 'string' || !isType(p.type) || !isInt(p.table)) throw bad('vertex prop');
  }
  for (const l of o.edgeLabels) {
    if (typeof l?.name !== 'string' || !isInt(l.out) || !isInt(l.in) || !Array.isArray(l.props))
      throw bad('edge label');
    for (const p of l.props) {
      if (
        typeof p?.name !== 'string' ||
        !isType(p.type) ||
        !isInt(p.ecol) ||
        (p.kind !== 'f64' && p.kind !== 'u32')
      ) {
        throw bad('edge prop');
      }
    }
  }
  return o as PublishedSchema;
}
