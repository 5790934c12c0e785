/**
 * Reusable chunk buffers for streamed exports, and the writer that hands them back.
 *
 * A CSR export fills a few bytes per entry into fresh buffers. Allocated per request, those
 * buffers were external memory that V8 answered with a full mark-compact every two or three
 * exports (about a fifth of the main thread; `node --trace-gc`). Here a buffer goes back to a
 * free list once the response has flushed its bytes to the socket (the write callback without
 * an error: Node has handed the bytes to the kernel), so no byte still queued for a client is
 * ever overwritten. A buffer whose write failed (the client went away) is dropped, not reused.
 */
import type { Writable } from 'node:stream';

/** One piece of an export: bytes to send, and whether they are a chunk buffer to reuse. */
export interface ExportPart {
  readonly bytes: Buffer;
  /** The bytes fill a buffer from ChunkBuffers.take, sent once: give it back when flushed. */
  readonly reusable: boolean;
}

/** Smallest size class, log2 bytes (smaller requests round up to it). */
const MIN_CLASS = 16;

/**
 * A Float64Array over a fresh buffer of its own (byte offset 0) whose every element the caller
 * writes before use: no zero fill (an export fills a few bytes per entry per request, and
 * zeroing them was a measurable share).
 */
export function uninitF64(n: number): Float64Array {
  const b = Buffer.allocUnsafeSlow(n * 8);
  return new Float64Array(b.buffer, b.byteOffset, n);
}

/**
 * Free lists of Float64Array buffers by power-of-two size class, holding at most `maxBytes`
 * in all (a bigger buffer, or one over the cap, is left to the garbage collector).
 */
export class ChunkBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;
  /** The buffers this pool made: give() takes back nothing else. */
  private readonly own = new WeakSet<ArrayBuffer>();

  constructor(private readonly maxBytes: number) {}

  /** A Float64Array of n elements, contents unspecified. */
  take(n: number): Float64Array {
    const cls = Math.max(MIN_CLASS, 32 - Math.clz32(Math.max(1, n * 8) - 1));
    const ab = this.free.get(cls)?.pop();
    if (ab !== undefined) {
      this.freeBytes -= ab.byteLength;
      return new Float64Array(ab, 0, n);
    }
    const made = uninitF64(2 ** (cls - 3)).buffer as ArrayBuffer;
    this.own.add(made);
    return new Float64Array(made, 0, n);
  }

  /** Return the buffer behind `a` (a view of a buffer from take) for reuse. */
  give(a: ArrayBufferView): void {
    const ab = a.buffer as ArrayBuffer;
    if (!this.own.has(ab) || this.freeBytes + ab.byteLength > this.maxBytes) return;
    const cls = 31 - Math.clz32(ab.byteLength);
    let list = this.free.get(cls);
    if (list === undefined) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(ab);
    this.freeBytes += ab.byteLength;
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.freeBytes;
  }
}

/** Resolves when the response can take more ('drain') or is gone ('close'). */
function writable(res: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Write the parts to a response whose head is written (or any Writable), then end it,
 * honouring backpressure. Returns true when the whole body was flushed, false when the client
 * went away first (the producer is then stopped). Reusable parts go back to `buffers` as their
 * bytes are flushed.
 */
export async function writeParts(
  res: Writable,
  parts: AsyncIterable<ExportPart>,
  buffers: ChunkBuffers,
): Promise<boolean> {
  for await (const part of parts) {
    if (res.destroyed) return false;
    const { bytes } = part;
    const more = part.reusable
      ? res.write(bytes, (err) => {
          if (err === null || err === undefined) buffers.give(bytes);
        })
      : res.write(bytes);
    if (!more) {
      if (res.destroyed) return false;
      await writable(res);
    }
  }
  if (res.destroyed) return false;
  return new Promise((resolve) => {
    const gone = () => resolve(res.writableFinished);
    res.once('close', gone);
    res.end(() => {
      res.off('close', gone);
      resolve(true);
    });
  });
}
