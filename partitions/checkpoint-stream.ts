/**
 * A checkpoint body is a sequence of frames [u32 little-endian length][msgpack record]; the
 * records are those of src/storage/checkpoint-codec.ts. The file layer (checkpoint.ts) adds
 * the header and CRC; this layer only splits the body back into records, refusing lengths
 * that do not fit what is left.
 */
import { packMsgpackInto, unpackMsgpack } from '../src/codec/msgpack.js';
import { EpochgraphError } from '../src/errors.js';

const MAX_FRAME = 1 << 30;

/** Where frameRecord packs: one buffer per thread, grown to the largest record framed so far. */
let frameBuf = Buffer.allocUnsafeSlow(1 << 20);
let frameBody = frameBuf.subarray(4);

/**
 * Frame one record: [u32 length][msgpack]. The bytes are a view of a buffer that the next call
 * reuses, so write them (and await the write) before framing the next record. A checkpoint's
 * ~100 MB of records used to take two fresh buffers each (msgpackr's and the frame's): fresh
 * memory to fault in and zero while the partition's writer ingests.
 */
export function frameRecord(record: unknown): Uint8Array {
  const body = packMsgpackInto(record, frameBody);
  if (body.buffer !== frameBuf.buffer) {
    // It did not fit; msgpackr packed it into a buffer of its own.
    let size = frameBuf.length;
    while (size < body.length + 4) size *= 2;
    frameBuf = Buffer.allocUnsafeSlow(size);
    frameBody = frameBuf.subarray(4);
    frameBuf.set(body, 4);
  }
  frameBuf.writeUInt32LE(body.length, 0);
  return frameBuf.subarray(0, 4 + body.length);
}

/** Split a stream of body chunks into decoded records. */
export async function* readFramedRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let buf: Uint8Array = new Uint8Array(0);
  let at = 0;
  for await (const chunk of chunks) {
    if (at >= buf.length) {
      buf = chunk;
      at = 0;
    } else {
      const joined = new Uint8Array(buf.length - at + chunk.length);
      joined.set(buf.subarray(at), 0);
      joined.set(chunk, buf.length - at);
      buf = joined;
      at = 0;
    }
    for (;;) {
      if (buf.length - at < 4) break;
      const len = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0, true);
      if (len > MAX_FRAME)
        throw new EpochgraphError('INTERNAL', `corrupt checkpoint: frame of ${len} bytes`, {
          reason: 'DATA_CORRUPT',
        });
      if (buf.length - at - 4 < len) break;
      const body = buf.subarray(at + 4, at + 4 + len);
      at += 4 + len;
      try {
        yield unpackMsgpack(body);
      } catch (err) {
        throw new EpochgraphError(
          'INTERNAL',
          `corrupt checkpoint: undecodable record (${(err as Error).message})`,
          {
            reason: 'DATA_CORRUPT',
          },
        );
      }
    }
  }
  if (at !== buf.length)
    throw new EpochgraphError('INTERNAL', 'corrupt checkpoint: trailing partial frame', {
      reason: 'DATA_CORRUPT',
    });
}
