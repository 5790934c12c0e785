import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../partitions/data-dir.js';
import { LOCK_FILE_NAME, lockDataDir, partitionPaths } from '../../partitions/index.js';
import { tempDir } from './wal-fixtures.js';

/** Starts a real process that stays alive until killed; returns its pid and a stop function. */
async function liveProcess(): Promise<{ pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid as number;
  return {
    pid,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('data directory layout', () => {
  it('puts each partition under p<N> with wal and checkpoints', () => {
    expect(partitionPaths('/data', 3)).toEqual({
      root: '/data/p3',
      wal: '/data/p3/wal',
      checkpoints: '/data/p3/checkpoints',
    });
    expect(() => partitionPaths('/data', -1)).toThrow(RangeError);
    expect(() => partitionPaths('/data', 1.5)).toThrow(RangeError);
  });
});

describe('data directory lock', () => {
  it('is exclusive, names the holder, and can be taken again after release', async () => {
    const dataDir = join(await tempDir(), 'data');
    const lock = await lockDataDir(dataDir);
    expect(lock.pid).toBe(process.pid);
    const content = JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8'));
    expect(content.pid).toBe(process.pid);
    await expect(lockDataDir(dataDir)).rejects.toThrow(
      new RegExp(`locked by pid ${process.pid} \\(this process\\)`),
    );
    await lock.release();
    expect(await readdir(dataDir)).toEqual([]);
    const again = await lockDataDir(dataDir);
    await again.release();
  });

  it('refuses a lock held by another live process, naming its pid', async () => {
    const dataDir = await tempDir();
    const other = await liveProcess();
    try {
      const info = {
        pid: other.pid,
        startTime: processStartTime(other.pid),
        hostname: 'h',
        createdAt: 'then',
      };
      await writeFile(join(dataDir, LOCK_FILE_NAME), JSON.stringify(info));
      const err = await lockDataDir(dataDir).then(
        () => undefined,
        (e: unknown) => e as { message: string; details: unknown },
      );
      expect(err?.message).toContain(`locked by pid ${other.pid}`);
      expect(err?.message).toContain(join(dataDir, LOCK_FILE_NAME));
      expect(err?.details).toMatchObject({ reason: 'DATA_DIR_LOCKED', pid: other.pid });
    } finally {
      await other.stop();
    }
  });

  it('replaces a stale lock whose process is gone', async () => {
    const dataDir = await tempDir();
    const dead = await liveProcess();
    await dead.stop();
    await writeFile(
      join(dataDir, LOCK_FILE_NAME),
      JSON.stringify({ pid: dead.pid, startTime: null, hostname: 'h', createdAt: 'then' }),
    );
    const lock = await lockDataDir(dataDir);
    expect(lock.replacedStalePid).toBe(dead.pid);
    expect(JSON.parse(await readFile(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('treats a lock whose pid was reused by another process as stale', async () => {
    const dataDir = await tempDir();
    const other = await liveProcess();
    try {
      // Same pid, different start time: the daemon that wrote it is gone.
      await writeFile(
        join(dataDir, LOCK_FILE_NAME),
        JSON.stringify({ pid: other.pid, startTime: '1', hostname: 'h', createdAt: 'then' }),
      );
      expect(processStartTime(other.pid)).not.toBe('1');
      const lock = await lockDataDir(dataDir);
      expect(lock.replacedStalePid).toBe(other.pid);
      await lock.release();
    } finally {
      await other.stop();
    }
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const dataDir = await tempDir();
    const lock = await lockDataDir(dataDir);
    const foreign = JSON.stringify({ pid: 999_999_999, startTime: null, hostname: 'h', createdAt: 'x' });
    await writeFile(lock.path, foreign);
    await lock.release();
    expect(await readFile(lock.path, 'utf8')).toBe(foreign);
  });
});
