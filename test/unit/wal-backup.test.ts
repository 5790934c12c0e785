import { appendFile, mkdir, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWal, type WalWriter } from '../../partitions/index.js';
import { rejection } from '../helpers/rejection.js';
import { IoProbe, ioError, readAll, sameSegments, segmentNames, tempDir } from './wal-fixtures.js';

async function dirs(): Promise<{ dir: string; backupDir: string; root: string }> {
  const root = await tempDir();
  return { root, dir: join(root, 'primary', 'wal'), backupDir: join(root, 'backup', 'wal') };
}

async function sealRange(wal: WalWriter, from: number, to: number, bytes = 64): Promise<void> {
  for (let e = from; e <= to; e++) {
    wal.append({ e, pad: 'b'.repeat(bytes) });
    await wal.seal(e, e);
  }
}

async function sizes(dir: string): Promise<number[]> {
  return Promise.all((await segmentNames(dir)).map(async (n) => (await stat(join(dir, n))).size));
}

describe('WAL backup mirror', () => {
  it('mirrors every seal byte for byte, across segments', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir, segmentBytes: 4096 });
    await sealRange(wal, 1, 60, 200);
    expect(wal.backup).toMatchObject({ configured: true, inSync: true });
    await wal.close();
    expect((await segmentNames(dir)).length).toBeGreaterThan(2);
    expect(await sameSegments(dir, backupDir)).toBe(true);
    expect((await readAll(backupDir)).groups.map((g) => g.epoch)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
  });

  it('a backup directory replaced by a file fails the seal, nothing is logged, and it recovers when the directory returns', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir, segmentBytes: 4096 });
    await sealRange(wal, 1, 5);
    await rm(backupDir, { recursive: true });
    await writeFile(backupDir, 'this is not a directory');
    const primaryBefore = await sizes(dir);

    // A group too big for the current segment needs a new segment file in the backup.
    wal.appendBytes(new Uint8Array(5000));
    const first = await rejection(wal.seal(6, 6));
    expect(first.code).toBe('BACKUP_UNAVAILABLE');
    expect(first.status).toBe(503);
    expect(first.details).toMatchObject({ epoch: 6, loggedInPrimary: false });
    expect(first.message).toContain(backupDir);
    expect(wal.lastEpoch).toBe(5);
    expect(wal.backup.inSync).toBe(false);

    // While it stays broken, every seal fails before touching the primary.
    wal.append('still broken');
    const second = await rejection(wal.seal(7, 7));
    expect(second.code).toBe('BACKUP_UNAVAILABLE');
    expect(second.details).toMatchObject({ loggedInPrimary: false });
    expect(await sizes(dir)).toEqual(primaryBefore);
    expect((await readAll(dir)).groups.map((g) => g.epoch)).toEqual([1, 2, 3, 4, 5]);
    // Truncation does not fail on the broken backup either.
    await expect(wal.truncateThrough(0)).resolves.toEqual([]);

    // The directory comes back (empty): the next seal re-syncs it from the primary and succeeds.
    await rm(backupDir);
    await mkdir(backupDir);
    wal.append('back');
    const ok = await wal.seal(8, 8);
    expect(ok.mirrored).toBe(true);
    expect(wal.backup).toMatchObject({ inSync: true, error: undefined });
    await wal.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
    const groups = (await readAll(backupDir)).groups;
    expect(groups.map((g) => g.epoch)).toEqual([1, 2, 3, 4, 5, 8]);
    expect(groups.at(-1)?.records).toEqual(['back']);
  });

  it('a backup directory deleted mid-segment is noticed at the next seal', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir });
    await sealRange(wal, 1, 3);
    await rm(backupDir, { recursive: true });
    await writeFile(backupDir, 'gone');
    wal.append('unmirrored');
    const err = await rejection(wal.seal(4, 4));
    expect(err.code).toBe('BACKUP_UNAVAILABLE');
    expect(err.message).toMatch(/deleted/);
    expect(err.details).toMatchObject({ epoch: 4, loggedInPrimary: true });
    await rm(backupDir);
    wal.append('mirrored again');
    await wal.seal(5, 5);
    await wal.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
    expect((await readAll(backupDir)).groups.map((g) => g.epoch)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a device error on the backup mid-segment leaves the group whole but unacknowledged in the primary', async () => {
    const { dir, backupDir } = await dirs();
    const probe = new IoProbe();
    let broken = false;
    probe.fail = (path, op) =>
      broken && path.startsWith(backupDir) && op === 'datasync' ? ioError('EIO') : undefined;
    const wal = await openWal({ dir, backupDir, openFile: probe.openFile });
    await sealRange(wal, 1, 3);

    broken = true;
    wal.append({ part: 1 });
    wal.append({ part: 2 });
    const failed = await rejection(wal.seal(4, 4));
    expect(failed.code).toBe('BACKUP_UNAVAILABLE');
    expect(failed.message).toMatch(/EIO/);
    expect(failed.details).toMatchObject({ epoch: 4, loggedInPrimary: true });
    // The epoch is used up: it is in the primary, whole.
    expect(wal.lastEpoch).toBe(4);
    const logged = (await readAll(dir)).groups;
    expect(logged.map((g) => g.epoch)).toEqual([1, 2, 3, 4]);
    expect(logged[3].records).toEqual([{ part: 1 }, { part: 2 }]);

    // Still failing: the re-sync fails, so nothing more reaches the primary.
    const primaryBefore = await sizes(dir);
    wal.append('x');
    const again = await rejection(wal.seal(5, 5));
    expect(again.details).toMatchObject({ loggedInPrimary: false });
    expect(await sizes(dir)).toEqual(primaryBefore);

    // Repaired: the next seal re-syncs (rewriting the active segment) and succeeds.
    broken = false;
    wal.append('y');
    await wal.seal(6, 6);
    await wal.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);

    // After a restart the unacknowledged epoch 4 is replayed whole, like any committed group.
    const reopened = await openWal({ dir, backupDir });
    expect(reopened.lastEpoch).toBe(6);
    await reopened.close();
    const replay = (await readAll(dir)).groups;
    expect(replay.map((g) => g.epoch)).toEqual([1, 2, 3, 4, 6]);
    expect(replay[3].records).toEqual([{ part: 1 }, { part: 2 }]);
  });

  it('a restart right after a backup failure re-syncs the backup at open', async () => {
    const { dir, backupDir } = await dirs();
    const probe = new IoProbe();
    let broken = false;
    probe.fail = (path, op) =>
      broken && path.startsWith(backupDir) && op === 'write' ? ioError('EIO') : undefined;
    const wal = await openWal({ dir, backupDir, openFile: probe.openFile });
    await sealRange(wal, 1, 3);
    broken = true;
    wal.append('lost in backup');
    expect((await rejection(wal.seal(4, 4))).code).toBe('BACKUP_UNAVAILABLE');
    await wal.close();
    expect(await sameSegments(dir, backupDir)).toBe(false);

    const reopened = await openWal({ dir, backupDir });
    expect(reopened.recovery.backupError).toBeUndefined();
    expect(reopened.backup.inSync).toBe(true);
    await reopened.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
  });

  it('a backup unusable at open: open succeeds, seals fail without writing, then recover', async () => {
    const root = await tempDir();
    const dir = join(root, 'wal');
    const blocker = join(root, 'blocker');
    await writeFile(blocker, 'a file where a directory should be');
    const backupDir = join(blocker, 'wal');
    const wal = await openWal({ dir, backupDir });
    expect(wal.recovery.backupError?.code).toBe('BACKUP_UNAVAILABLE');
    expect(wal.backup.inSync).toBe(false);
    wal.append('a');
    const err = await rejection(wal.seal(1, 1));
    expect(err.code).toBe('BACKUP_UNAVAILABLE');
    expect(err.details).toMatchObject({ loggedInPrimary: false });
    expect(await readdir(dir)).toEqual([]);

    await rm(blocker);
    wal.append('b');
    await wal.seal(2, 2);
    await wal.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
    expect((await readAll(dir)).groups.map((g) => [g.epoch, g.records])).toEqual([[2, ['b']]]);
  });

  it('a restart re-syncs a backup that lags, runs ahead or holds stray segments', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir, segmentBytes: 4096 });
    await sealRange(wal, 1, 40, 200);
    await wal.close();
    const names = await segmentNames(backupDir);
    expect(names.length).toBeGreaterThan(2);
    await rm(join(backupDir, names[0]));
    await truncate(join(backupDir, names[1]), 100);
    await appendFile(join(backupDir, names.at(-1) as string), Buffer.from('unacknowledged tail'));
    await writeFile(join(backupDir, 'wal-00000000000000000999.log'), 'stray');

    const reopened = await openWal({ dir, backupDir, segmentBytes: 4096 });
    await reopened.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
  });

  it('a primary torn tail is cut in the backup too', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir });
    await sealRange(wal, 1, 4);
    await wal.close();
    const name = (await segmentNames(dir))[0];
    const full = (await stat(join(dir, name))).size;
    await truncate(join(dir, name), full - 3); // epoch 4 torn in the primary, whole in the backup
    const reopened = await openWal({ dir, backupDir });
    expect(reopened.lastEpoch).toBe(3);
    await reopened.close();
    expect(await sameSegments(dir, backupDir)).toBe(true);
    expect((await readAll(backupDir)).groups.map((g) => g.epoch)).toEqual([1, 2, 3]);
  });

  it('refuses to open when the primary is missing but the backup holds segments', async () => {
    const { dir, backupDir } = await dirs();
    const wal = await openWal({ dir, backupDir });
    await sealRange(wal, 1, 2);
    await wal.close();
    await rm(dir, { recursive: true });
    await expect(openWal({ dir, backupDir })).rejects.toThrow(
      /does not exist but the backup .* holds 1 segments/,
    );
    expect((await readAll(backupDir)).groups.map((g) => g.epoch)).toEqual([1, 2]);
  });
});

describe('WAL primary failures', () => {
  it.each(['write', 'datasync'] as const)(
    'a failed primary %s rolls back, and the log continues',
    async (op) => {
      const { dir, backupDir } = await dirs();
      const probe = new IoProbe();
      let failNext = false;
      probe.fail = (path, o) => {
        if (failNext && o === op && path.startsWith(`${dir}/`)) {
          failNext = false;
          return ioError('ENOSPC');
        }
        return undefined;
      };
      const wal = await openWal({ dir, backupDir, openFile: probe.openFile });
      await sealRange(wal, 1, 3);
      const before = await sizes(dir);
      failNext = true;
      wal.append('doomed');
      const err = await rejection(wal.seal(4, 4));
      expect(err.code).toBe('INTERNAL');
      expect(err.message).toMatch(/ENOSPC/);
      expect(wal.lastEpoch).toBe(3);
      expect(await sizes(dir)).toEqual(before);
      wal.append('fine');
      await wal.seal(5, 5);
      await wal.close();
      expect((await readAll(dir)).groups.map((g) => g.epoch)).toEqual([1, 2, 3, 5]);
      expect(await sameSegments(dir, backupDir)).toBe(true);
    },
  );
});
