/**
 * Answer slots: shared buffers that read-pool workers pack big msgpack answers into, which
 * the main thread sends as they are and reuses once the answer is written out.
 *
 * A batch read answered as columns brought ~0.7 MB of fresh buffers per request into the
 * main thread (the columns moved from the worker, ~360 KB, then msgpack's own output, ~364
 * KB, for 4096 ids with ~41K neighbours), and buffers that come and go at that rate make V8
 * run a full mark-compact every ~20 requests (7-8 ms each, scratch/batch-http-pool.mjs).
 * Packed into a slot, an answer allocates nothing in the main thread.
 */
import { packMsgpackInto } from './msgpack.js';

/** A slot lent for one answer: give it back with `release` once the answer is sent. */
export interface AnswerSlot {
  readonly buffer: SharedArrayBuffer;
  release(): void;
}

/** Bytes a new slot starts with; a worker grows it (up to MAX_SLOT_BYTES) when an answer needs more. */
const FIRST_SLOT_BYTES = 1 << 20;
/** The most a slot holds; a bigger answer comes back as bytes of its own. */
export const MAX_SLOT_BYTES = 64 << 20;
/** Slots bigger than this are not kept for reuse (their memory goes back once sent). */
const KEEP_SLOT_BYTES = 8 << 20;

/** A msgpack answer to send: `bytes` (often a view of a slot), then `release` once written out. */
export interface PackedAnswer {
  readonly bytes: Uint8Array;
  release(): void;
}

export class AnswerSlots {
  private readonly free: SharedArrayBuffer[] = [];

  /** @param keep the most slots kept for reuse (the rest are dropped once released). */
  constructor(private readonly keep: number) {}

  /** A slot for one answer: a kept one when there is one. */
  take(): AnswerSlot {
    const buffer =
      this.free.pop() ?? new SharedArrayBuffer(FIRST_SLOT_BYTES, { maxByteLength: MAX_SLOT_BYTES });
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        if (this.free.length < this.keep && buffer.byteLength <= KEEP_SLOT_BYTES) this.free.push(buffer);
      },
    };
  }

  /** Slots kept for reuse now (AnalyticsService.stats, tests). */
  get kept(): number {
    return this.free.length;
  }
}

/**
 * Pack `value` in msgpack into `slot` from its start, growing it (up to its maximum) when the
 * answer needs more: the answer's bytes as a view of `slot`, or, past its maximum, as bytes
 * of their own (compare `.buffer`). Any thread may pack into a slot it was lent.
 */
export function packIntoSlot(slot: SharedArrayBuffer, value: unknown): Uint8Array {
  const bytes = packMsgpackInto(value, Buffer.from(slot, 0, slot.byteLength));
  if (bytes.buffer === slot || bytes.length > slot.maxByteLength) return bytes;
  slot.grow(Math.max(slot.byteLength, bytes.length));
  const view = new Uint8Array(slot, 0, bytes.length);
  view.set(bytes);
  return view;
}
