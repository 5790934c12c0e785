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

/**
 * Encode a value into `target` (bytes from its start) when it fits. Returns the encoded bytes:
 * a view of `target`, or, when they did not fit, a buffer of their own (compare `.buffer`).
 * For answers written into shared buffers that are sent and then reused (the read pool's
 * answer slots), so that a big answer allocates nothing.
 */
export function packMsgpackInto(value: unknown, target: Buffer): Uint8Array {
  // msgpackr packs into one module-wide buffer, continuing after the last value it packed;
  // useBuffer points it at `target` from its start. Afterwards it gets a fresh buffer of its
  // own, so no later value can be written over an answer in `target`.
  packr.useBuffer(target);
  try {
    return packr.pack(value);
  } finally {
    packr.useBuffer(Buffer.allocUnsafeSlow(RESET_BYTES));
  }
}

/** The buffer msgpackr continues in after packMsgpackInto (it grows its own as needed). */
const RESET_BYTES = 8192;
