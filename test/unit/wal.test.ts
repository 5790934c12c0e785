import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, openWal, readWal, scanWal } from '../../partitions/index.js';
import { EpochgraphError } from '../../src/errors.js';
import { columnarBatch, IoProbe, readAll, segmentNames, tempDir } from './wal-fixtures.js';

/** The records of epoch e in these tests: a value, some bytes, and a columnar batch. */
function recordsOf(e: number): unknown[] {
  return [
    { op: 'upsertVertex', id: e, label: 'v', props: { name: `n${e}` } },
    new Uint8Array([e & 0xff, 1, 2, 3]),
  ];
}

describe('WAL round trip', () => {
  it('reads back many seals across rotated segments, in order, with records intact', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, segmentBytes: 8192 });
    const sealed: number[] = [];
    for (let e = 1; e <= 300; e++) {
      const [value, bytes] = recordsOf(e);
      wal.append(value);
      wal.appendBytes(bytes as Uint8Array);
      if (e % 50 === 0) wal.append(columnarBatch(e, 100));
      const result = await wal.seal(e * 2, 1_700_000_000_000 + e);
      expect(result.epoch).toBe(e * 2);
      expect(result.records).toBe(e % 50 === 0 ? 3 : 2);
      sealed.push(e * 2);
    }
    await wal.close();

    const names = await segmentNames(dir);
    expect(names.length).toBeGreaterThan(5);
    // Names sort in log order and carry the first epoch of their segment.
    const scan = await scanWal(dir);
    expect(scan.tail).toBeNull();
    expect(scan.segments.map((s) => s.name)).toEqual(names);
    for (const s of scan.segments) expect(s.firstEpoch).toBe(s.nameEpoch);
    for (const s of scan.segments.slice(0, -1)) expect(s.size).toBeLessThanOrEqual(8192 + 4096);

    const { groups, tail } = await readAll(dir);
    expect(tail).toBeNull();
    expect(groups.map((g) => g.epoch)).toEqual(sealed);
    for (const g of groups) {
      const e = g.epoch / 2;
      expect(g.sealedAtMs).toBe(1_700_000_000_000 + e);
      expect(g.prevEpoch).toBe(e === 1 ? 0 : g.epoch - 2);
      expect(g.records[0]).toEqual(recordsOf(e)[0]);
      expect(g.records[1]).toBeInstanceOf(Uint8Array);
      expect(Array.from(g.records[1] as Uint8Array)).toEqual([e & 0xff, 1, 2, 3]);
      if (e % 50 === 0) {
        const batch = g.records[2] as ReturnType<typeof columnarBatch>;
        // Typed arrays keep their type and values (msgpackr needs moreTypes for this).
        expect(batch.edges.src).toBeInstanceOf(Float64Array);
        expect(batch).toEqual(columnarBatch(e, 100));
      }
    }
  });

  it('yields only groups after afterEpoch', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, segmentBytes: 4096 });
    for (let e = 1; e <= 40; e++) {
      wal.append({ e });
      await wal.seal(e, e);
    }
    await wal.close();
    const { groups } = await readAll(dir, 25);
    expect(groups.map((g) => g.epoch)).toEqual(Array.from({ length: 15 }, (_, i) => 26 + i));
    expect(groups[0].records).toEqual([{ e: 26 }]);
  });

  it('continues the same log after a reopen, and seals must keep increasing', async () => {
    const dir = await tempDir();
    let wal = await openWal({ dir });
    wal.append('a');
    await wal.seal(5, 1);
    await wal.close();
    wal = await openWal({ dir });
    expect(wal.lastEpoch).toBe(5);
    expect(wal.recovery.tail).toBeNull();
    await expect(wal.seal(5, 2)).rejects.toThrow(/above the last epoch 5/);
    wal.append('b');
    await wal.seal(9, 2);
    await wal.close();
    const { groups } = await readAll(dir);
    expect(groups.map((g) => [g.epoch, g.prevEpoch, g.records])).toEqual([
      [5, 0, ['a']],
      [9, 5, ['b']],
    ]);
    // One segment: a reopened writer appends to the newest segment.
    expect(await segmentNames(dir)).toEqual(['wal-00000000000000000005.log']);
  });

  it('uses afterEpoch as the floor of an empty log', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir, afterEpoch: 100 });
    expect(wal.lastEpoch).toBe(100);
    await expect(wal.seal(100, 0)).rejects.toBeInstanceOf(EpochgraphError);
    await wal.seal(101, 0);
    await wal.close();
    expect((await readAll(dir, 100)).groups.map((g) => g.prevEpoch)).toEqual([100]);
    // Replaying onto an older base would miss epochs up to 100: refused.
    await expect(readAll(dir, 0)).rejects.toThrow(/predecessor 100 is not in the log/);
  });

  it('runs overlapping seals in call order; records appended meanwhile go to the next seal', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir });
    wal.append(1);
    const s1 = wal.seal(1, 0);
    wal.append(2);
    wal.append(3);
    const s2 = wal.seal(2, 0);
    const s3 = wal.seal(3, 0); // an empty group is valid
    expect(wal.pendingRecords).toBe(0);
    expect((await Promise.all([s1, s2, s3])).map((r) => r.records)).toEqual([1, 2, 0]);
    await wal.close();
    const { groups } = await readAll(dir);
    expect(groups.map((g) => g.records)).toEqual([[1], [2, 3], []]);
  });

  it('rejects a record over the format limit with TOO_LARGE, before any I/O', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir });
    const big = new Uint8Array(MAX_RECORD_BYTES + 1);
    expect(() => wal.appendBytes(big)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(wal.pendingRecords).toBe(0);
    await wal.close();
  });

  it('rejects bad epochs and times', async () => {
    const dir = await tempDir();
    const wal = await openWal({ dir });
    await expect(wal.seal(0, 1)).rejects.toThrow(/safe integer/);
    await expect(wal.seal(1.5, 1)).rejects.toThrow(/safe integer/);
    await expect(wal.seal(2, Number.NaN)).rejects.toThrow(/not a time/);
    await wal.close();
    expect(() => wal.append(1)).toThrow(/closed/);
  });
});

describe('WAL group commit', () => {
  it('does exactly one data fsync per seal per copy, and no other fsync outside rotation', async () => {
    const root = await tempDir();
    const dir = join(root, 'wal');
    const backupDir = join(root, 'backup');
    const probe = new IoProbe();
    const wal = await openWal({ dir, backupDir, openFile: probe.openFile });
    probe.reset();
    const seals = 25;
    for (let e = 1; e <= seals; e++) {
      for (let i = 0; i < 100; i++) wal.append({ e, i });
      await wal.seal(e, Date.now());
    }
    const inPrimary = (p: string) => p.startsWith(`${dir}/`);
    const inBackup = (p: string) => p.startsWith(`${backupDir}/`);
    expect(probe.count(probe.datasyncs, inPrimary)).toBe(seals);
    expect(probe.count(probe.datasyncs, inBackup)).toBe(seals);
    // The first seal created the segment: one directory fsync per copy, nothing else.
    expect(probe.count(probe.syncs, (p) => p === dir)).toBe(1);
    expect(probe.count(probe.syncs, (p) => p === backupDir)).toBe(1);
    expect(probe.count(probe.syncs, (p) => p !== dir && p !== backupDir)).toBe(0);
    await wal.close();
  });

  it('adds one directory fsync per copy for each new segment', async () => {
    const root = await tempDir();
    const dir = join(root, 'wal');
    const probe = new IoProbe();
    const wal = await openWal({ dir, segmentBytes: 4096, openFile: probe.openFile });
    probe.reset();
    for (let e = 1; e <= 60; e++) {
      wal.appendBytes(new Uint8Array(500));
      await wal.seal(e, 0);
    }
    const segments = (await segmentNames(dir)).length;
    expect(segments).toBeGreaterThan(3);
    expect(probe.count(probe.datasyncs, () => true)).toBe(60);
    expect(probe.count(probe.syncs, (p) => p === dir)).toBe(segments);
    await wal.close();
  });
});

describe('WAL truncateThrough', () => {
  it('deletes only segments whose groups are all covered, in both copies', async () => {
    const root = await tempDir();
    const dir = join(root, 'wal');
    const backupDir = join(root, 'backup');
    const wal = await openWal({ dir, backupDir, segmentBytes: 4096 });
    for (let e = 1; e <= 80; e++) {
      wal.appendBytes(new Uint8Array(300).fill(e));
      await wal.seal(e, 0);
    }
    const before = wal.segmentList.map((s) => ({ ...s }));
    expect(before.length).toBeGreaterThan(4);
    // An epoch in the middle of the third segment: the first two go, the third stays.
    const third = before[2];
    const cut = third.firstEpoch + 1;
    expect(third.lastEpoch).toBeGreaterThan(cut);
    const removed = await wal.truncateThrough(cut);
    expect(removed).toEqual([before[0].name, before[1].name]);
    expect(await segmentNames(dir)).toEqual(before.slice(2).map((s) => s.name));
    expect(await segmentNames(backupDir)).toEqual(before.slice(2).map((s) => s.name));
    // Exactly at a segment's last epoch: that segment goes too.
    expect(await wal.truncateThrough(third.lastEpoch as number)).toEqual([third.name]);
    const { groups } = await readAll(dir, third.lastEpoch as number);
    expect(groups[0].epoch).toBe((third.lastEpoch as number) + 1);
    expect(groups.at(-1)?.epoch).toBe(80);
    // Reading from before the cut must fail loudly: those epochs are gone.
    await expect(readAll(dir, 1)).rejects.toThrow(/cannot continue from epoch 1/);

    // Covering everything deletes the active segment too; the next seal starts a new one.
    await wal.truncateThrough(80);
    expect(await readdir(dir)).toEqual([]);
    wal.append('after');
    await wal.seal(81, 0);
    await wal.close();
    expect(await segmentNames(dir)).toEqual(['wal-00000000000000000081.log']);
    const again = await readAll(dir, 80);
    expect(again.groups.map((g) => [g.epoch, g.prevEpoch])).toEqual([[81, 80]]);
    expect((await stat(join(backupDir, 'wal-00000000000000000081.log'))).size).toBeGreaterThan(0);
  });
});

describe('readWal', () => {
  it('reads an empty or missing directory as an empty log', async () => {
    const dir = await tempDir();
    expect((await readAll(dir)).groups).toEqual([]);
    expect((await readAll(join(dir, 'missing'))).groups).toEqual([]);
    const reader = readWal(dir);
    expect(() => reader.tail).toThrow(/after iterating/);
  });
});
