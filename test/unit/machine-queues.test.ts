/** The machine's write queues: slots for batches (backpressure) and waiters for seals. */
import { describe, expect, it } from 'vitest';
import { IngestSlots } from '../../partitions/ingest-slots.js';
import { SealWaiters } from '../../partitions/seal-waiters.js';
import { EpochgraphError } from '../../src/errors.js';
import { emptyCounts } from '../../src/model/ops.js';

describe('IngestSlots', () => {
  it('hands freed slots to waiters in arrival order and times a waiter out with NOT_READY', async () => {
    const slots = new IngestSlots(2, 200);
    await slots.take();
    await slots.take();
    expect(slots.inUse).toBe(2);
    const order: string[] = [];
    const a = slots.take().then(() => order.push('a'));
    const b = slots.take().then(() => order.push('b'));
    slots.release();
    slots.release();
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(slots.inUse).toBe(2);
    const late = await slots.take().then(
      () => null,
      (e: unknown) => e,
    );
    expect(late).toBeInstanceOf(EpochgraphError);
    expect((late as EpochgraphError).code).toBe('NOT_READY');
    expect(slots.inUse).toBe(2);
    // The timed-out waiter is gone: a release frees a slot instead of handing it to nobody.
    slots.release();
    expect(slots.inUse).toBe(1);
  });
});

describe('SealWaiters', () => {
  it('resolves an epoch’s waiters, forgets dropped ones and rejects the rest when writes stop', async () => {
    const w = new SealWaiters();
    const one = emptyCounts();
    const two = emptyCounts();
    const gone = emptyCounts();
    const p1 = w.wait(5, one);
    const p2 = w.wait(5, two);
    void w.wait(5, gone);
    w.drop(5, gone);
    const later = w.wait(6, emptyCounts());
    const sealed = w.take(5);
    expect(sealed.map((x) => x.applied)).toEqual([one, two]);
    for (const x of sealed) x.resolve({ epoch: 5, applied: x.applied });
    expect((await p1).applied).toBe(one);
    expect((await p2).epoch).toBe(5);
    expect(w.take(5)).toEqual([]);
    w.rejectAll(() => new EpochgraphError('NOT_READY', 'writes stopped'));
    await expect(later).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(w.take(6)).toEqual([]);
  });
});
