/**
 * CsrPlans, the cache of CSR exports' counted rows: a kept count is reused, counts that start
 * together are shared, the byte budget drops the least recently used, plans of epochs below
 * retention are dropped, and a count that fails or outgrows the budget is not kept (nor
 * shared: its offsets come from the export's own pool).
 */
import { describe, expect, it } from 'vitest';
import { CsrPlans, type RowPlan } from '../../api/csr-plan.js';

/** A plan of `rows` rows: 12 bytes a row plus 8 for the last offset. */
function plan(rows: number): RowPlan {
  return {
    rowLids: new Uint32Array(rows),
    offsets: new Float64Array(rows + 1),
    rows,
    entries: 0,
    intIds: true,
    bound: rows,
  };
}

/** A count of `rows` rows that asks to be kept, as planCsr's does, before its first await. */
function counter(rows: number) {
  const c = {
    calls: 0,
    kept: [] as boolean[],
    count: async (keep: (bytes: number) => boolean) => {
      c.calls++;
      c.kept.push(keep(rows * 12 + 8));
      await Promise.resolve();
      return plan(rows);
    },
  };
  return c;
}

describe('CsrPlans', () => {
  it('counts a snapshot once, shared by exports that start together and reused after', async () => {
    const plans = new CsrPlans(1 << 20, () => 0);
    const c = counter(100);
    const [a, b] = await Promise.all([
      plans.get('1/0/out/-1', 1, c.count),
      plans.get('1/0/out/-1', 1, c.count),
    ]);
    expect(a).toBe(b);
    expect(await plans.get('1/0/out/-1', 1, c.count)).toBe(a);
    expect(c.calls).toBe(1);
    expect(plans.keptBytes).toBe(100 * 12 + 8);
    // Another key is another count.
    await plans.get('1/0/in/-1', 1, c.count);
    expect(c.calls).toBe(2);
  });

  it('drops the least recently used beyond its budget, and keeps nothing bigger', async () => {
    const size = 100 * 12 + 8;
    const plans = new CsrPlans(2 * size, () => 0);
    const c = counter(100);
    await plans.get('a', 1, c.count);
    await plans.get('b', 1, c.count);
    await plans.get('a', 1, c.count); // a is now the most recent
    await plans.get('c', 1, c.count); // over budget: b goes
    expect(c.calls).toBe(3);
    expect(plans.size).toBe(2);
    expect(plans.keptBytes).toBe(2 * size);
    await plans.get('a', 1, c.count);
    expect(c.calls).toBe(3);
    await plans.get('b', 1, c.count);
    expect(c.calls).toBe(4);

    // Too big to keep: told so (its offsets come from the pool), and not shared even while it runs.
    const big = counter(1000);
    await Promise.all([plans.get('big', 1, big.count), plans.get('big', 1, big.count)]);
    expect(big.calls).toBe(2);
    expect(big.kept).toEqual([false, false]);
    expect(c.kept.every((k) => k)).toBe(true);
    expect(plans.keptBytes).toBeLessThanOrEqual(2 * size);
  });

  it('drops plans of epochs below retention', async () => {
    let oldest = 0;
    const plans = new CsrPlans(1 << 20, () => oldest);
    const c = counter(10);
    await plans.get('3/0/out/-1', 3, c.count);
    oldest = 5;
    await plans.get('7/0/out/-1', 7, c.count);
    expect(plans.size).toBe(1);
    expect(plans.keptBytes).toBe(10 * 12 + 8);
    await plans.get('3/0/out/-1', 3, c.count);
    expect(c.calls).toBe(3);
  });

  it('does not keep a count that failed', async () => {
    const plans = new CsrPlans(1 << 20, () => 0);
    let calls = 0;
    const failing = async (keep: (bytes: number) => boolean): Promise<RowPlan> => {
      calls++;
      keep(100);
      await Promise.resolve();
      throw new Error('gone');
    };
    await expect(plans.get('k', 1, failing)).rejects.toThrow('gone');
    await expect(plans.get('k', 1, failing)).rejects.toThrow('gone');
    expect(calls).toBe(2);
    expect(plans.size).toBe(0);
    // A count that never asked to be kept (it failed before) is neither kept nor shared.
    const early = async (): Promise<RowPlan> => {
      calls++;
      throw new Error('early');
    };
    await Promise.all([
      expect(plans.get('e', 1, early)).rejects.toThrow('early'),
      expect(plans.get('e', 1, early)).rejects.toThrow('early'),
    ]);
    expect(calls).toBe(4);
    expect(plans.size).toBe(0);
  });
});
