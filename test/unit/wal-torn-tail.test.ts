import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWal, scanWal, type WalTornTail } from '../../partitions/index.js';
import { copyDir, readAll, segmentNames, tempDir } from './wal-fixtures.js';

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function randomBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

interface Fixture {
  dir: string;
  /** The newest segment, which holds the last group. */
  lastSegment: string;
  /** Offset of the last group in it, i.e. its size before the last seal. */
  lastGroupStart: number;
  lastSize: number;
  epochs: number[];
}

/** A WAL of several segments whose last group holds `lastRecords`. */
async function buildWal(
  lastRecords: unknown[],
  options: { newSegmentForLast?: boolean } = {},
): Promise<Fixture> {
  const dir = await tempDir();
  const wal = await openWal({ dir, segmentBytes: 4096 });
  const epochs: number[] = [];
  const sealNext = async () => {
    const e = epochs.length + 1;
    await wal.seal(e, e);
    epochs.push(e);
  };
  for (let i = 0; i < 30; i++) {
    wal.append({ i, pad: 'x'.repeat(200) });
    await sealNext();
  }
  if (options.newSegmentForLast) {
    // Fill the newest segment so that the last group has to start a new one.
    while ((wal.segmentList.at(-1)?.size ?? 0) < 4096 - 200) {
      wal.append({ pad: 'y'.repeat(100) });
      await sealNext();
    }
  }
  const before = wal.segmentList.at(-1);
  if (!before) throw new Error('no segment');
  const [nameBefore, sizeBefore] = [before.name, before.size];
  for (const r of lastRecords) wal.append(r);
  await sealNext();
  const seg = wal.segmentList.at(-1);
  if (!seg) throw new Error('no segment');
  await wal.close();
  const lastSegment = join(dir, seg.name);
  return {
    dir,
    lastSegment,
    lastGroupStart: seg.name === nameBefore ? sizeBefore : 0,
    lastSize: (await stat(lastSegment)).size,
    epochs,
  };
}

/** Checks that a damaged copy reads as all epochs but the last, then recovers and continues. */
async function expectLastGroupDropped(f: Fixture, damagedDir: string): Promise<void> {
  const segment = join(damagedDir, f.lastSegment.slice(f.dir.length + 1));
  const { groups, tail } = await readAll(damagedDir);
  expect(groups.map((g) => g.epoch)).toEqual(f.epochs.slice(0, -1));
  const size = (await stat(segment)).size;
  if (size > f.lastGroupStart) {
    expect(tail).toMatchObject({ file: segment, offset: f.lastGroupStart });
  } else {
    expect(tail).toBeNull();
  }
  const wal = await openWal({ dir: damagedDir, segmentBytes: 4096 });
  expect(wal.lastEpoch).toBe(f.epochs.at(-2));
  expect(wal.recovery.tail?.offset ?? f.lastGroupStart).toBe(f.lastGroupStart);
  // The unacknowledged epoch number may be used again: it was never acknowledged.
  const again = f.epochs.at(-1)!;
  wal.append('recovered');
  await wal.seal(again, 1);
  await wal.close();
  const after = await readAll(damagedDir);
  expect(after.tail).toBeNull();
  expect(after.groups.map((g) => g.epoch)).toEqual(f.epochs);
  expect(after.groups.at(-1)?.records).toEqual(['recovered']);
}

describe('WAL torn tail', () => {
  it('recovers exactly the intact seals when the last group is cut at every byte offset', async () => {
    const f = await buildWal([{ a: 1 }, new Uint8Array([9, 9, 9]), { b: 'two' }]);
    expect(f.lastSize - f.lastGroupStart).toBeGreaterThan(40);
    for (let cut = f.lastGroupStart; cut < f.lastSize; cut++) {
      const copy = await copyDir(f.dir);
      await truncate(join(copy, f.lastSegment.slice(f.dir.length + 1)), cut);
      await expectLastGroupDropped(f, copy);
    }
  });

  it('recovers when a large last record is cut at sampled offsets', async () => {
    const big = { payload: new Uint8Array(300_000).fill(7) };
    const f = await buildWal([{ small: true }, big]);
    const span = f.lastSize - f.lastGroupStart;
    const cuts = new Set([0, 1, 11, 12, 13, span - 41, span - 40, span - 39, span - 1]);
    const rnd = randomBytes(64, 42);
    for (let i = 0; i < 16; i++) cuts.add(rnd.readUInt32LE(i * 4) % span);
    for (const c of cuts) {
      const copy = await copyDir(f.dir);
      await truncate(join(copy, f.lastSegment.slice(f.dir.length + 1)), f.lastGroupStart + c);
      await expectLastGroupDropped(f, copy);
    }
  });

  it('removes a new segment whose first group was torn', async () => {
    const f = await buildWal([{ only: 'z'.repeat(400) }], { newSegmentForLast: true });
    expect(f.lastGroupStart).toBe(0);
    const copy = await copyDir(f.dir);
    const name = f.lastSegment.slice(f.dir.length + 1);
    await truncate(join(copy, name), 17);
    const wal = await openWal({ dir: copy });
    expect(wal.recovery.removedSegments).toEqual([name]);
    expect(await segmentNames(copy)).not.toContain(name);
    await wal.close();
    expect((await readAll(copy)).groups.map((g) => g.epoch)).toEqual(f.epochs.slice(0, -1));
  });

  it('drops the last group when its SEAL fails its CRC', async () => {
    const f = await buildWal([{ a: 1 }]);
    const copy = await copyDir(f.dir);
    const file = join(copy, f.lastSegment.slice(f.dir.length + 1));
    const bytes = await readFile(file);
    bytes[bytes.length - 5] ^= 0x40; // inside the SEAL payload
    await writeFile(file, bytes);
    const scan = await scanWal(copy);
    expect(scan.tail?.problem).toMatch(/CRC mismatch/);
    await expectLastGroupDropped(f, copy);
  });

  it('cuts garbage appended after the last SEAL and keeps every epoch', async () => {
    const f = await buildWal([{ a: 1 }]);
    const garbage = [
      randomBytes(5000, 7),
      Buffer.alloc(4096), // zero-filled blocks, as a filesystem may leave after a crash
      Buffer.concat([Buffer.from([0x45, 0x57, 1, 2, 3, 4, 1, 3, 28, 0, 0, 0]), randomBytes(100, 3)]),
      Buffer.from([0x45]),
    ];
    for (const g of garbage) {
      const copy = await copyDir(f.dir);
      const file = join(copy, f.lastSegment.slice(f.dir.length + 1));
      await appendFile(file, g);
      const { groups, tail } = await readAll(copy);
      expect(groups.map((x) => x.epoch)).toEqual(f.epochs);
      expect((tail as WalTornTail).offset).toBe(f.lastSize);
      const wal = await openWal({ dir: copy });
      expect(wal.recovery.tail?.offset).toBe(f.lastSize);
      await wal.close();
      expect((await stat(file)).size).toBe(f.lastSize);
    }
  });

  it('treats intact BATCH frames after the last SEAL as an uncommitted group', async () => {
    const f = await buildWal([{ a: 1 }, { b: 2 }]);
    const copy = await copyDir(f.dir);
    const file = join(copy, f.lastSegment.slice(f.dir.length + 1));
    const bytes = await readFile(file);
    // Keep the last group's BATCH frames but cut its SEAL off entirely.
    await writeFile(file, bytes.subarray(0, bytes.length - 40));
    const scan = await scanWal(copy);
    expect(scan.tail?.problem).toMatch(/2 BATCH frames without their SEAL/);
    await expectLastGroupDropped(f, copy);
  });
});
