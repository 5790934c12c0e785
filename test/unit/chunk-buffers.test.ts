/**
 * ChunkBuffers and writeParts (api/chunk-buffers.ts): buffers come back only through give,
 * only the pool's own buffers are taken back, the pool keeps no more than its cap, and
 * writeParts hands a chunk buffer back only once its bytes have left, so a reused buffer never
 * overwrites bytes still queued.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkBuffers, type ExportPart, writeParts } from '../../api/chunk-buffers.js';

describe('ChunkBuffers', () => {
  it('hands out views of the asked length and reuses a buffer once it is given back', () => {
    const pool = new ChunkBuffers(1 << 24);
    const a = pool.take(1000);
    expect(a).toBeInstanceOf(Float64Array);
    expect(a.length).toBe(1000);
    const b = pool.take(1000);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    expect(pool.heldBytes).toBe(a.buffer.byteLength);
    // Same size class (both round up to one power of two): the given buffer comes back.
    const c = pool.take(1500);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(1500);
    expect(pool.heldBytes).toBe(0);
    // Another size class does not take it.
    pool.give(c);
    const big = pool.take(1 << 20);
    expect(big.buffer).not.toBe(c.buffer);
    expect(big.buffer.byteLength).toBe(8 << 20);
  });

  it('takes back only buffers it made, and only up to its cap', () => {
    const pool = new ChunkBuffers(1 << 20);
    pool.give(new Float64Array(8192));
    pool.give(Buffer.from('not ours'));
    expect(pool.heldBytes).toBe(0);
    const small = [pool.take(65536 / 8), pool.take(65536 / 8)];
    const large = pool.take(1 << 17); // 1 MiB: the whole cap
    for (const s of small) pool.give(s);
    pool.give(large);
    // The two small buffers fit; the large one would go over the cap and is dropped.
    expect(pool.heldBytes).toBe(2 * 65536);
    expect(pool.take(1 << 17).buffer).not.toBe(large.buffer);
  });
});

/** A sink that takes each chunk's bytes only some time after write() (like a backed-up socket). */
class LateSink extends Writable {
  readonly got: Buffer[] = [];
  constructor() {
    super({ highWaterMark: 1 << 20 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    setTimeout(() => {
      this.got.push(Buffer.from(chunk));
      done();
    }, 1);
  }
}

describe('writeParts', () => {
  it('reuses a chunk buffer only after its bytes are taken, and sends every part in order', async () => {
    const pool = new ChunkBuffers(1 << 24);
    const sink = new LateSink();
    const parts = 40;
    let distinct = 0;
    const seen = new Set<ArrayBufferLike>();
    async function* produce(): AsyncGenerator<ExportPart> {
      for (let k = 0; k < parts; k++) {
        if (k % 4 === 0) yield { bytes: Buffer.from([0xff, k]), reusable: false };
        const a = pool.take(512).fill(k);
        if (!seen.has(a.buffer)) distinct++;
        seen.add(a.buffer);
        yield { bytes: Buffer.from(a.buffer, a.byteOffset, a.byteLength), reusable: true };
        // Let callbacks run now and then, so buffers come back while parts are still queued.
        if (k % 8 === 7) await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(await writeParts(sink, produce(), pool)).toBe(true);
    const want: Buffer[] = [];
    for (let k = 0; k < parts; k++) {
      if (k % 4 === 0) want.push(Buffer.from([0xff, k]));
      const a = new Float64Array(512).fill(k);
      want.push(Buffer.from(a.buffer));
    }
    expect(Buffer.concat(sink.got).equals(Buffer.concat(want))).toBe(true);
    // Buffers were reused (fewer buffers than chunks), yet no queued chunk was overwritten.
    expect(distinct).toBeLessThan(parts);
  });

  it('stops and reports false when the sink is destroyed mid-way', async () => {
    const pool = new ChunkBuffers(1 << 24);
    const sink = new LateSink();
    let produced = 0;
    async function* produce(): AsyncGenerator<ExportPart> {
      for (let k = 0; k < 100; k++) {
        produced++;
        if (k === 3) sink.destroy();
        yield { bytes: Buffer.from([k]), reusable: false };
      }
    }
    expect(await writeParts(sink, produce(), pool)).toBe(false);
    expect(produced).toBeLessThan(10);
  });
});
