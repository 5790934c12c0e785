/**
 * 503 BACKUP_UNAVAILABLE over HTTP with a real backup mirror: when the backup directory stops
 * being usable (here it is replaced by a file, so new WAL segments cannot be created in it),
 * writes answer 503 with Retry-After and are not acknowledged, a checkpoint fails, both are
 * counted in /metrics, and once the directory is back, writes succeed again without a restart.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, body, errorCode, get, postJson, startApi } from '../helpers/api-harness.js';
import { tempDir } from '../helpers/temp-dir.js';

let h: ApiHarness;
let backup: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  backup = await tempDir('epochgraph-api-backup-');
  // Tiny WAL segments: every few seals create a new segment file, in the backup too.
  h = await startApi({ machine: { backupDir: backup.path, walSegmentBytes: 4096 } });
});
afterAll(async () => {
  await h?.close();
  await backup?.remove();
});

const batch = (base: number) => ({
  ops: Array.from({ length: 200 }, (_, k) => ({ op: 'upsertEdge', src: base + k, dst: k + 1 })),
});

describe('backup mirror failure', () => {
  it('answers 503 BACKUP_UNAVAILABLE with Retry-After, then recovers when the backup returns', async () => {
    expect((await postJson(h.app, '/v1/batches', batch(0))).statusCode).toBe(200);
    const moved = `${backup.path}-moved`;
    await rename(backup.path, moved);
    await writeFile(backup.path, 'not a directory');
    try {
      let failed = 0;
      for (let i = 1; i <= 4; i++) {
        const r = await postJson(h.app, '/v1/batches', batch(i * 1000));
        if (r.statusCode === 200) continue;
        expect(r.statusCode).toBe(503);
        expect(r.headers['retry-after']).toBe('1');
        expect(errorCode(r)).toBe('BACKUP_UNAVAILABLE');
        expect(body<{ error: { message: string } }>(r).error.message).toMatch(/backup/);
        failed++;
      }
      expect(failed).toBeGreaterThan(0);
      // A checkpoint cannot be written in both copies either: it fails, and is counted (on the
      // partitions that had a newer committed epoch to checkpoint).
      await expect(h.machine.checkpoint()).rejects.toThrow(/backup/);
      const metrics = (await get(h.app, '/metrics')).body;
      expect(Number(/^epochgraph_backup_failures_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      const failedCheckpoints = [
        ...metrics.matchAll(/^epochgraph_checkpoints_total\{partition="\d+",result="failed"\} (\d+)/gm),
      ].reduce((n, m) => n + Number(m[1]), 0);
      expect(failedCheckpoints).toBeGreaterThanOrEqual(1);
      expect(metrics).not.toMatch(/^epochgraph_checkpoints_total\{partition="\d+",result="ok"\}/m);
    } finally {
      await rm(backup.path, { force: true });
      await rename(moved, backup.path);
    }
    const ok = await postJson(h.app, '/v1/batches', batch(9000));
    expect(ok.statusCode).toBe(200);
    expect(
      (await get(h.app, `/v1/snapshots/${body<{ epoch: number }>(ok).epoch}/vertices/9000`)).statusCode,
    ).toBe(200);
  });
});
