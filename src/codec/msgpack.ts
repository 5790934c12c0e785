/**
 * The project's one msgpack configuration. `moreTypes` makes typed arrays (Float64Array,
 * Uint32Array, Float32Array, ...) round-trip as typed arrays; without it msgpackr 2.x writes
 * some of them as opaque bytes. Records and structured clones are off: the wire format must
 * stay plain msgpack for other clients.
 */
import { Packr, Unpackr } from 'msgpackr';

const options = { moreTypes: true, useRecords: false, structuredClone: false, mapsAsObjects: true } as const;

const packr = new Packr(options);
const unpackr = new Unpackr(options);

/** Encode a value as msgpack (typed arrays as msgpack typed-array extensions). */
export function packMsgpack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decode msgpack bytes; throws on malformed input (callers map it to INVALID_REQUEST). */
export function unpackMsgpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(bytes);
}

/** Decode several concatenated msgpack values. */
export function unpackMsgpackMultiple(bytes: Uint8Array): unknown[] {
  return unpackr.unpackMultiple(bytes) as unknown[];
}
