/**
 * Answer slots (src/codec/answer-slots.ts): a slot is lent to one answer at a time and kept
 * for reuse once released (twice released counts once); only a bounded number of slots, and
 * none past the size kept, stay; packIntoSlot packs into the slot from its start, grows it up
 * to its maximum, and past that answers with bytes of their own.
 */
import { describe, expect, it } from 'vitest';
import { AnswerSlots, MAX_SLOT_BYTES, packIntoSlot } from '../../src/codec/answer-slots.js';
import { unpackMsgpack } from '../../src/codec/msgpack.js';

describe('answer slots', () => {
  it('lends each slot to one answer at a time and keeps a bounded number for reuse', () => {
    const slots = new AnswerSlots(2);
    const a = slots.take();
    const b = slots.take();
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.buffer.growable).toBe(true);
    expect(a.buffer.maxByteLength).toBe(MAX_SLOT_BYTES);
    a.release();
    a.release(); // once only
    expect(slots.kept).toBe(1);
    const c = slots.take();
    expect(c.buffer).toBe(a.buffer);
    expect(slots.kept).toBe(0);
    const d = slots.take();
    for (const s of [b, c, d]) s.release();
    expect(slots.kept).toBe(2); // the third is dropped
    // A slot grown past the size kept is dropped when released.
    const big = slots.take();
    expect(slots.kept).toBe(1);
    big.buffer.grow(9 << 20);
    big.release();
    expect(slots.kept).toBe(1);
    expect(slots.take().buffer).not.toBe(big.buffer);
  });

  it('packs into the slot, grows it to fit, and past its maximum answers with bytes of their own', () => {
    const value = { epoch: 3, neighbors: new Float64Array(1000).fill(7) };
    const roomy = new SharedArrayBuffer(1 << 16, { maxByteLength: 1 << 20 });
    const a = packIntoSlot(roomy, value);
    expect(a.buffer).toBe(roomy);
    expect(a.byteOffset).toBe(0);
    expect(unpackMsgpack(a)).toEqual(value);
    const small = new SharedArrayBuffer(16, { maxByteLength: 1 << 20 });
    const b = packIntoSlot(small, value);
    expect(b.buffer).toBe(small);
    expect(small.byteLength).toBeGreaterThanOrEqual(8000);
    expect(unpackMsgpack(b)).toEqual(value);
    const tight = new SharedArrayBuffer(16, { maxByteLength: 64 });
    const c = packIntoSlot(tight, value);
    expect(c.buffer).not.toBe(tight);
    expect(unpackMsgpack(c)).toEqual(value);
    // The codec's own buffer is not the slot afterwards: a later value cannot land in it.
    const before = new Uint8Array(roomy, 0, a.length).slice();
    unpackMsgpack(packIntoSlot(new SharedArrayBuffer(16, { maxByteLength: 1 << 20 }), { x: 1 }));
    expect(new Uint8Array(roomy, 0, a.length)).toEqual(before);
  });
});
