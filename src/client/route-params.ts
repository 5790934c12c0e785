/**
 * How the client's arguments become parts of a route: an id as a URL path segment (and
 * whether it needs `?idType=string`), the epoch segment and `asOf` query of a snapshot read,
 * and id lists as request bodies. Each checks its argument and throws INVALID_REQUEST before
 * anything is sent.
 *
 * Separate from client.ts because it is the one place that knows the URL and body shapes of
 * ids and snapshots; the client's methods only put the parts into their routes.
 */
import { invalid } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import type { At } from './options.js';

/** ids `.` and `..` would be resolved away as URL dot segments. */
const DOT_SEGMENT = /^\.{1,2}$/;

/** An id as a path segment, and whether it needs `?idType=string` (a string of digits). */
export function idSegment(id: ExternalId): { segment: string; idType: 'string' | undefined } {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) throw invalid(`id ${id} is not a non-negative safe integer`);
    return { segment: String(id), idType: undefined };
  }
  if (typeof id !== 'string' || id.length === 0) throw invalid('id must be a non-empty string or an integer');
  if (DOT_SEGMENT.test(id)) {
    throw invalid(`id "${id}" cannot be sent in a URL path; read it with batchNeighbors or subgraph`);
  }
  return { segment: encodeURIComponent(id), idType: /^[0-9]+$/.test(id) ? 'string' : undefined };
}

export function epochSegment(at: At): string {
  const e = at.epoch ?? 'latest';
  if (e !== 'latest' && !(Number.isSafeInteger(e) && e >= 0))
    throw invalid(`epoch ${e} is not an epoch number`);
  if (at.asOf !== undefined && e !== 'latest') throw invalid('give either an epoch or asOf, not both');
  return String(e);
}

export function asOfQuery(at: At): string | undefined {
  if (at.asOf === undefined) return undefined;
  if (at.asOf instanceof Date) {
    if (Number.isNaN(at.asOf.getTime())) throw invalid('asOf is an invalid Date');
    return at.asOf.toISOString();
  }
  return at.asOf;
}

/** Ids for a body: typed arrays as they are (msgpack keeps them typed), array-likes as arrays. */
export function idsBody(ids: ArrayLike<ExternalId>): unknown {
  if (
    Array.isArray(ids) ||
    ids instanceof Float64Array ||
    ids instanceof Uint32Array ||
    ids instanceof Int32Array
  ) {
    return ids;
  }
  return Array.from(ids);
}
