/**
 * openMetadata picks the store as DESIGN.md §6 says: --etcd → that etcd; else an etcd
 * binary on PATH → a managed child etcd with data under the data dir; else in-process,
 * said loudly.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findEtcdBinary } from '../../meta/etcd-launcher.js';
import type { MetaLogger } from '../../meta/logger.js';
import { type OpenedMetadata, openMetadata } from '../../meta/open-metadata.js';
import { runEtcdctl, startEtcd, type TestEtcd } from '../helpers/etcd.js';

const ETCD_DIR = path.dirname(findEtcdBinary() ?? '/usr/bin/etcd');
/** A PATH on which there is no etcd. */
const PATH_WITHOUT_ETCD = ['/nonexistent', path.join(tmpdir(), 'no-etcd-here')].join(path.delimiter);

let etcd: TestEtcd;
const opened: OpenedMetadata[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'epochgraph-open-'));
  dirs.push(d);
  return d;
}

function recordingLogger(): MetaLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  etcd = await startEtcd();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.store.close({ flushTimeoutMs: 200 })));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

afterAll(async () => {
  await etcd?.stop();
});

describe('openMetadata', () => {
  it('finds etcd on a PATH, and not on a PATH without it', () => {
    expect(findEtcdBinary(`/nonexistent${path.delimiter}${ETCD_DIR}`)).toBe(path.join(ETCD_DIR, 'etcd'));
    expect(findEtcdBinary(PATH_WITHOUT_ETCD)).toBeNull();
    expect(findEtcdBinary('')).toBeNull();
  });

  it('uses the given etcd endpoints (external)', async () => {
    const o = await openMetadata({
      etcd: etcd.endpoints,
      dataDir: tempDir(),
      prefix: 'open_ext_',
      logger: recordingLogger(),
    });
    opened.push(o);
    expect(o.mode).toBe('external');
    expect(o.endpoints).toEqual(etcd.endpoints);
    await o.store.ensureCluster({ partitions: 3, epochMs: 50 });
    expect(JSON.parse(await etcd.etcdctl(['get', 'open_ext_cluster', '--print-value-only'])).partitions).toBe(
      3,
    );
  });

  it('starts a managed etcd with its data under the data dir, and stops it on close', async () => {
    const dataDir = tempDir();
    const logger = recordingLogger();
    const o = await openMetadata({ dataDir, path: ETCD_DIR, preferDefaultPorts: false, logger });
    expect(o.mode).toBe('managed');
    expect(o.store.kind).toBe('etcd');
    expect(o.managedEtcd?.dataDir).toBe(path.join(dataDir, 'etcd'));
    expect(o.endpoints).toHaveLength(1);
    expect(o.endpoints[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(path.join(dataDir, 'etcd', 'member')).isDirectory()).toBe(true);
    expect(logger.lines.some((l) => l.includes(`etcdctl --endpoints=${o.endpoints[0]}`))).toBe(true);

    const cluster = await o.store.ensureCluster({ partitions: 2, epochMs: 50 });
    o.store.publish({
      machine: 0,
      fnum: 2,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [{ partition: 1, epoch: 77, vertices: 0, edges: 0, sealedAtMs: Date.now() }],
    });
    await o.store.flush();
    const latest = await runEtcdctl(o.endpoints, [
      'get',
      'gart_meta_gart_latest_epoch_p1',
      '--print-value-only',
    ]);
    expect(latest.trim()).toBe('77');

    await o.store.close();
    expect(await healthy(o.endpoints[0])).toBe(false);

    // The metadata outlives the process: a second start on the same data dir sees it.
    const again = await openMetadata({ dataDir, path: ETCD_DIR, preferDefaultPorts: false, logger });
    opened.push(again);
    expect(again.mode).toBe('managed');
    expect((await again.store.getCluster())?.createdAt).toBe(cluster.createdAt);
    expect(await again.store.getLatestEpoch(1)).toBe(77);
  });

  it('brings a crashed managed etcd back, and the publisher catches up', async () => {
    const logger = recordingLogger();
    const o = await openMetadata({ dataDir: tempDir(), path: ETCD_DIR, preferDefaultPorts: false, logger });
    opened.push(o);
    const etcdServer = o.managedEtcd!;
    const firstPid = etcdServer.pid!;
    const publish = (epoch: number) =>
      o.store.publish({
        machine: 0,
        fnum: 1,
        endpoint: '',
        partitions: [{ partition: 0, epoch, vertices: 0, edges: 0, sealedAtMs: Date.now() }],
      });
    publish(1);
    await o.store.flush();
    process.kill(firstPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    publish(2);
    await o.store.flush(); // resolves once the restarted etcd has epoch 2
    expect(etcdServer.pid).not.toBe(firstPid);
    expect(etcdServer.endpoints).toEqual(o.endpoints);
    const latest = await runEtcdctl(o.endpoints, [
      'get',
      'gart_meta_gart_latest_epoch_p0',
      '--print-value-only',
    ]);
    expect(latest.trim()).toBe('2');
    expect(logger.lines.some((l) => /^error: the managed etcd exited/.test(l))).toBe(true);
  });

  it('keeps metadata in-process when there is no etcd on PATH, and says so', async () => {
    const logger = recordingLogger();
    const o = await openMetadata({ dataDir: tempDir(), path: PATH_WITHOUT_ETCD, logger });
    opened.push(o);
    expect(o.mode).toBe('in-process');
    expect(o.store.kind).toBe('in-process');
    expect(o.endpoints).toEqual([]);
    expect(logger.lines.some((l) => /^warn: .*in-process.*etcdctl will not see it/.test(l))).toBe(true);
    o.store.publish({
      machine: 0,
      fnum: 1,
      endpoint: '',
      partitions: [{ partition: 0, epoch: 5, vertices: 0, edges: 0, sealedAtMs: Date.now() }],
    });
    await o.store.flush();
    expect(await o.store.getLatestEpoch(0)).toBe(5);
  });
});
