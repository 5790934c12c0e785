/**
 * The version queue across many segments (65536 entries each), drained as retention moves on
 * while seals keep pushing: every entry comes out once, in order, with its table, item and
 * node, also from segments that were drained and reused.
 */
import { describe, expect, it } from 'vitest';
import type { RecordTable } from '../../src/storage/record-table.js';
import { VersionQueue } from '../../src/storage/version-queue.js';

/** A stand-in for record tables that records what retention hands them. */
function recordingTables(count: number, got: number[][]): RecordTable[] {
  return Array.from(
    { length: count },
    (_, t) =>
      ({
        reclaimRun(items: Uint32Array, nodes: Uint32Array, from: number, to: number) {
          for (let k = from; k < to; k++) got.push([t, items[k], nodes[k]]);
        },
      }) as unknown as RecordTable,
  );
}

describe('version queue', () => {
  it('drains every entry once, in order, while segments are reused', () => {
    const q = new VersionQueue();
    const got: number[][] = [];
    const tables = recordingTables(3, got);
    const pushed: number[][] = [];
    let n = 0;
    // 60 epochs of 7,000 entries (~6.4 segments in all), retention 5 epochs behind.
    for (let epoch = 1; epoch <= 60; epoch++) {
      for (let i = 0; i < 7_000; i++, n++) {
        const t = Math.floor(i / 2_500); // runs of one table, as a seal pushes them
        const entry = [t, n, 1_000_000 + n];
        pushed.push(entry);
        if (i % 2_500 === 0) q.begin(epoch, t);
        q.push(entry[1], entry[2]);
      }
      q.drain(epoch - 5, tables, epoch);
      expect(q.length).toBe(Math.min(epoch, 5) * 7_000);
    }
    q.drain(60, tables, 60);
    expect(q.length).toBe(0);
    expect(got).toEqual(pushed);
    // After emptying, it fills and drains again from reused segments.
    got.length = 0;
    q.begin(61, 2);
    for (let i = 0; i < 70_000; i++) q.push(i, i + 1);
    q.drain(61, tables, 61);
    expect(got.length).toBe(70_000);
    expect(got[69_999]).toEqual([2, 69_999, 70_000]);
  });

  it('keeps no header for a run that got no entries, and resumes a run cut by a budget', () => {
    const q = new VersionQueue();
    const got: number[][] = [];
    const tables = recordingTables(3, got);
    // A seal whose items were all new opens a run and pushes nothing: the next run reuses it.
    q.begin(3, 0);
    q.begin(4, 1);
    q.push(10, 100);
    expect(q.oldestEpoch()).toBe(4);
    expect(q.drain(3, tables, 4)).toBe(0);
    expect(q.drain(4, tables, 4)).toBe(1);
    expect(got).toEqual([[1, 10, 100]]);
    expect(q.oldestEpoch()).toBe(Number.POSITIVE_INFINITY);
    // A budget stops inside a run; the run's epoch and table carry on to the next drain.
    got.length = 0;
    q.begin(5, 2);
    for (let i = 0; i < 100; i++) q.push(i, 1000 + i);
    q.begin(6, 0);
    q.push(7, 7);
    expect(q.drain(5, tables, 6, 30)).toBe(30);
    expect(q.oldestEpoch()).toBe(5);
    expect(q.length).toBe(71);
    expect(q.drain(5, tables, 6)).toBe(70);
    expect(q.oldestEpoch()).toBe(6);
    expect(q.drain(6, tables, 6)).toBe(1);
    expect(got.length).toBe(101);
    expect(got[99]).toEqual([2, 99, 1099]);
    expect(got[100]).toEqual([0, 7, 7]);
  });
});
