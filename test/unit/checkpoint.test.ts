import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_HEADER_BYTES, checkpointFileName } from '../../partitions/checkpoint-format.js';
import {
  type CheckpointStore,
  CorruptionError,
  listCheckpoints,
  loadLatestCheckpoint,
  openCheckpointStore,
} from '../../partitions/index.js';
import { EpochgraphError } from '../../src/errors.js';
import { IoProbe, ioError, tempDir } from './wal-fixtures.js';

/** Deterministic body bytes: byte i of checkpoint `seed`. */
function body(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Writes checkpoint `epoch` with `data`, in chunks of varying sizes (tiny to multi-MiB). */
async function writeCheckpoint(store: CheckpointStore, epoch: number, data: Buffer) {
  const w = await store.beginCheckpoint(epoch);
  const sizes = [1, 100, 3 * 1024 * 1024, 7, 65536, 5 * 1024 * 1024];
  for (let pos = 0, i = 0; pos < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length], data.length - pos);
    await w.write(data.subarray(pos, pos + n));
    pos += n;
  }
  expect(w.bytesWritten).toBe(data.length);
  return w.commit();
}

async function collect(iter: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of iter) parts.push(c);
  return Buffer.concat(parts);
}

describe('checkpoints', () => {
  it('streams a large body in and out, atomically named, with header and CRC', async () => {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    const data = body(1, 20 * 1024 * 1024 + 123);
    const commit = await writeCheckpoint(store, 42, data);
    expect(commit).toMatchObject({ epoch: 42, bodyBytes: data.length, retained: [42], fallbackEpoch: null });
    expect(await readdir(dir)).toEqual(['checkpoint-00000000000000000042.ckpt']);
    expect((await stat(commit.file)).size).toBe(CHECKPOINT_HEADER_BYTES + data.length);

    const loaded = await loadLatestCheckpoint(dir);
    expect(loaded).not.toBeNull();
    expect(loaded?.epoch).toBe(42);
    expect(loaded?.skipped).toEqual([]);
    expect((await collect(loaded!.body(1024 * 1024))).equals(data)).toBe(true);
    expect((await loaded!.readBody()).equals(data)).toBe(true);
  });

  it('round-trips an empty body', async () => {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    await (await store.beginCheckpoint(1)).commit();
    const loaded = await store.loadLatest();
    expect(loaded?.bodyBytes).toBe(0);
    expect((await collect(loaded!.body())).length).toBe(0);
  });

  it('keeps the newest two valid checkpoints and reports the WAL truncation point', async () => {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    for (const e of [10, 20, 30]) await writeCheckpoint(store, e, body(e, 1000));
    expect(await listCheckpoints(dir)).toEqual([30, 20]);
    const c = await writeCheckpoint(store, 40, body(40, 1000));
    expect(c.retained).toEqual([40, 30]);
    expect(c.deleted).toEqual([checkpointFileName(20)]);
    expect(c.fallbackEpoch).toBe(30);
    expect(await listCheckpoints(dir)).toEqual([40, 30]);
  });

  it('a corrupt previous checkpoint is not counted as one to keep', async () => {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    for (const e of [10, 20]) await writeCheckpoint(store, e, body(e, 5000));
    const f20 = join(dir, checkpointFileName(20));
    const bytes = await readFile(f20);
    bytes[CHECKPOINT_HEADER_BYTES + 10] ^= 1;
    await writeFile(f20, bytes);
    const c = await writeCheckpoint(store, 30, body(30, 5000));
    // 20 fails verification, so 10 stays as the fallback.
    expect(c.retained).toEqual([30, 10]);
    expect(c.deleted).toEqual([checkpointFileName(20)]);
  });

  it('only accepts increasing epochs and one checkpoint at a time', async () => {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    await writeCheckpoint(store, 5, body(5, 10));
    await expect(store.beginCheckpoint(5)).rejects.toThrow(/not above the newest checkpoint 5/);
    const w = await store.beginCheckpoint(6);
    await expect(store.beginCheckpoint(7)).rejects.toThrow(/already in progress/);
    await w.abort();
    expect((await readdir(dir)).sort()).toEqual([checkpointFileName(5)]);
    await expect(w.write(new Uint8Array(1))).rejects.toThrow(/already finished/);
    await writeCheckpoint(store, 7, body(7, 10));
  });

  it('fsyncs the file before the rename and the directory after it', async () => {
    const dir = await tempDir();
    const probe = new IoProbe();
    const store = await openCheckpointStore({ dir, openFile: probe.openFile });
    probe.reset();
    await writeCheckpoint(store, 3, body(3, 100_000));
    expect(probe.count(probe.datasyncs, (p) => p.endsWith('.ckpt.tmp'))).toBe(1);
    expect(probe.count(probe.syncs, (p) => p === dir)).toBe(1);
  });
});

describe('checkpoint crash safety and fallback', () => {
  async function twoCheckpoints() {
    const dir = await tempDir();
    const store = await openCheckpointStore({ dir });
    await writeCheckpoint(store, 10, body(10, 50_000));
    await writeCheckpoint(store, 20, body(20, 50_000));
    return { dir, newest: join(dir, checkpointFileName(20)) };
  }

  it('a temp file left by a crash is ignored by load and removed at open', async () => {
    const { dir } = await twoCheckpoints();
    const store = await openCheckpointStore({ dir });
    const w = await store.beginCheckpoint(30);
    await w.write(body(30, 1000));
    // Crash: no commit. The temp file is there, the committed set is unchanged.
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([`${checkpointFileName(30)}.tmp`]);
    expect((await loadLatestCheckpoint(dir))?.epoch).toBe(20);
    const reopened = await openCheckpointStore({ dir });
    expect(reopened.removedTempFiles).toEqual([join(dir, `${checkpointFileName(30)}.tmp`)]);
    expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
    await w.abort(); // the "crashed" writer's file handle (its file is already gone)
  });

  it.each([
    ['truncated body', async (f: string) => truncate(f, (await stat(f)).size - 100), /truncated/],
    ['truncated header', async (f: string) => truncate(f, 20), /shorter than the header/],
    ['flipped body byte', async (f: string) => flip(f, CHECKPOINT_HEADER_BYTES + 777), /body CRC mismatch/],
    ['flipped header byte', async (f: string) => flip(f, 17), /header CRC mismatch/],
    ['empty file', async (f: string) => writeFile(f, ''), /shorter than the header/],
  ])('a %s falls back to the previous checkpoint, saying why', async (_name, damage, problem) => {
    const { dir, newest } = await twoCheckpoints();
    await damage(newest);
    const loaded = await loadLatestCheckpoint(dir);
    expect(loaded?.epoch).toBe(10);
    expect(loaded?.skipped).toEqual([{ file: newest, problem: expect.stringMatching(problem) }]);
    expect((await loaded!.readBody()).equals(body(10, 50_000))).toBe(true);
  });

  it('a checkpoint renamed to another epoch is skipped', async () => {
    const { dir, newest } = await twoCheckpoints();
    await writeFile(join(dir, checkpointFileName(25)), await readFile(newest));
    const loaded = await loadLatestCheckpoint(dir);
    expect(loaded?.epoch).toBe(20);
    expect(loaded?.skipped[0].problem).toMatch(/header epoch 20 does not match the file name's 25/);
  });

  it('fails loudly when no checkpoint verifies, and returns null when there is none', async () => {
    const { dir, newest } = await twoCheckpoints();
    await truncate(newest, 50);
    await flip(join(dir, checkpointFileName(10)), CHECKPOINT_HEADER_BYTES);
    await expect(loadLatestCheckpoint(dir)).rejects.toBeInstanceOf(CorruptionError);
    await expect(loadLatestCheckpoint(dir)).rejects.toThrow(/no checkpoint verifies/);
    expect(await loadLatestCheckpoint(await tempDir())).toBeNull();
  });

  it('a body changed after verification fails the stream at its end', async () => {
    const { dir, newest } = await twoCheckpoints();
    const loaded = await loadLatestCheckpoint(dir);
    await flip(newest, CHECKPOINT_HEADER_BYTES + 5);
    await expect(collect(loaded!.body())).rejects.toThrow(/changed after it was verified/);
    await expect(loaded!.readBody()).rejects.toThrow(/changed after it was verified/);
  });
});

describe('checkpoint backup mirror', () => {
  it('mirrors each committed checkpoint and its pruning', async () => {
    const root = await tempDir();
    const dir = join(root, 'p', 'checkpoints');
    const backupDir = join(root, 'b', 'checkpoints');
    const store = await openCheckpointStore({ dir, backupDir });
    for (const e of [1, 2, 3]) await writeCheckpoint(store, e, body(e, 10_000));
    expect(await listCheckpoints(backupDir)).toEqual([3, 2]);
    for (const e of [3, 2]) {
      const name = checkpointFileName(e);
      expect((await readFile(join(backupDir, name))).equals(await readFile(join(dir, name)))).toBe(true);
    }
    expect((await loadLatestCheckpoint(backupDir))?.epoch).toBe(3);
  });

  it('a backup failure fails the checkpoint with BACKUP_UNAVAILABLE and leaves both copies as they were', async () => {
    const root = await tempDir();
    const dir = join(root, 'p');
    const backupDir = join(root, 'b');
    const probe = new IoProbe();
    let failOn: 'write' | 'datasync' | undefined;
    probe.fail = (path, op) => (op === failOn && path.startsWith(backupDir) ? ioError('EIO') : undefined);
    const store = await openCheckpointStore({ dir, backupDir, openFile: probe.openFile });
    await writeCheckpoint(store, 1, body(1, 10_000));

    for (const [op, epoch] of [
      ['write', 2],
      ['datasync', 3],
    ] as const) {
      failOn = op;
      const err = await writeCheckpoint(store, epoch, body(epoch, 10_000)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EpochgraphError);
      expect((err as EpochgraphError).code).toBe('BACKUP_UNAVAILABLE');
      expect(await readdir(dir)).toEqual([checkpointFileName(1)]);
      expect(await readdir(backupDir)).toEqual([checkpointFileName(1)]);
      expect((await loadLatestCheckpoint(dir))?.epoch).toBe(1);
    }
    failOn = undefined;
    await writeCheckpoint(store, 4, body(4, 10_000));
    expect(await listCheckpoints(backupDir)).toEqual([4, 1]);
  });

  it('a backup directory that is a file fails at begin; it works again once it is a directory', async () => {
    const root = await tempDir();
    const dir = join(root, 'p');
    const backupDir = join(root, 'b');
    await writeFile(backupDir, 'not a directory');
    const store = await openCheckpointStore({ dir, backupDir });
    await expect(store.beginCheckpoint(1)).rejects.toMatchObject({ code: 'BACKUP_UNAVAILABLE' });
    expect(await readdir(dir)).toEqual([]);
    await rm(backupDir);
    await mkdir(backupDir);
    await writeCheckpoint(store, 2, body(2, 100));
    expect(await listCheckpoints(backupDir)).toEqual([2]);
  });

  it('refuses to open when the primary is missing but the backup holds checkpoints', async () => {
    const root = await tempDir();
    const dir = join(root, 'p');
    const backupDir = join(root, 'b');
    const store = await openCheckpointStore({ dir, backupDir });
    await writeCheckpoint(store, 2, body(2, 100));
    await rm(dir, { recursive: true });
    await expect(openCheckpointStore({ dir, backupDir })).rejects.toThrow(/does not exist but the backup/);
    expect(await listCheckpoints(backupDir)).toEqual([2]);
  });
});

async function flip(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[offset] ^= 0x10;
  await writeFile(file, bytes);
}
