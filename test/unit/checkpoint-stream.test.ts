/**
 * A checkpoint body's framing (partitions/checkpoint-stream.ts): frameRecord packs each record
 * into a buffer it reuses (grown for bigger records, but not past 8 MiB: an outlier gets a frame
 * of its own), and readFramedRecords splits any chunking of the bytes back into the records.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { frameRecord, readFramedRecords } from '../../partitions/checkpoint-stream.js';

async function* chunksOf(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function readAll(bytes: Uint8Array, sizes: number[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const r of readFramedRecords(chunksOf(bytes, sizes))) out.push(r);
  return out;
}

/** Records with their typed arrays as hex digests of their bytes (a deep compare of millions
 * of elements one by one takes seconds). */
function digest(records: unknown[]): unknown[] {
  return records.map((r) =>
    Object.fromEntries(
      Object.entries(r as Record<string, unknown>).map(([k, v]) => [
        k,
        ArrayBuffer.isView(v)
          ? `${v.constructor.name}:${createHash('sha1')
              .update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
              .digest('hex')}`
          : v,
      ]),
    ),
  );
}

describe('checkpoint framing', () => {
  it('frames small, grown and outlier records that read back under any chunking', async () => {
    const filled = (n: number, seed: number) =>
      Uint32Array.from({ length: n }, (_, i) => (i * 2654435761 + seed) >>> 0);
    const records = [
      { t: 'header', epoch: 7 },
      { t: 'adj', nbrs: filled(600_000, 1) }, // 2.4 MB: the reused buffer grows
      { t: 'keys', nums: Float64Array.from({ length: 10 }, (_, i) => i * 1.5) },
      { t: 'adj', nbrs: filled(3_000_000, 2) }, // 12 MB: a frame of its own
      { t: 'end', records: 5 },
    ];
    // Each frame is copied before the next is made (the writer copies or writes it first).
    const frames = records.map((r) => Uint8Array.from(frameRecord(r)));
    const body = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      expect(new DataView(f.buffer).getUint32(0, true)).toBe(f.length - 4);
      body.set(f, at);
      at += f.length;
    }
    for (const sizes of [[body.length], [65_536], [4 << 20, 5]]) {
      expect(digest(await readAll(body, sizes))).toEqual(digest(records));
    }
    // Byte by byte and in odd sizes, over small records (each chunk that ends inside a frame
    // joins what is left, so tiny chunks are for small bodies only).
    const small = [records[0], records[2], records[4]];
    const smallBody = Buffer.concat(small.map((r) => Uint8Array.from(frameRecord(r))));
    for (const sizes of [[1], [3, 7, 2]]) expect(await readAll(smallBody, sizes)).toEqual(small);
  });

  it('refuses a trailing partial frame and an impossible length', async () => {
    const f = Uint8Array.from(frameRecord({ t: 'end', records: 1 }));
    await expect(readAll(f.subarray(0, f.length - 1), [4])).rejects.toThrow(/trailing partial frame/);
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
    await expect(readAll(huge, [8])).rejects.toThrow(/frame of \d+ bytes/);
  });
});

describe('checkpoint frame limit', () => {
  it('refuses to frame a record that restore would refuse, and frames the next records as before', async () => {
    // The limit scaled down: the daemon's is 1 GiB (MAX_FRAME), which readFramedRecords applies.
    const big = { t: 'adj', nbrs: new Uint32Array(3000) };
    let err: unknown;
    try {
      frameRecord(big, 4096);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'CAPACITY_EXCEEDED', details: { maxFrameBytes: 4096 } });
    expect((err as Error).message).toMatch(/write-ahead log is kept/);
    expect((err as { details: { recordBytes: number } }).details.recordBytes).toBeGreaterThan(12_000);
    // A record at the limit is framed, and what follows reads back whole.
    const fits = { t: 'adj', nbrs: new Uint32Array(1000) };
    const a = Uint8Array.from(frameRecord(fits, 4096));
    const b = Uint8Array.from(frameRecord({ t: 'end', records: 2 }, 4096));
    const bytes = new Uint8Array(a.length + b.length);
    bytes.set(a, 0);
    bytes.set(b, a.length);
    expect(digest(await readAll(bytes, [7, 4096]))).toEqual(digest([fits, { t: 'end', records: 2 }]));
  });
});
