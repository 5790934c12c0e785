/**
 * The daemon's metadata in a real etcd, as users see it with the real etcdctl: the latest
 * epoch key and blob keys (DESIGN §6 fields), pruning under short retention, an etcd outage
 * during ingest, a SIGKILLed daemon's writer keys vanishing with its lease, a refused
 * partition-count mismatch, the embedded default (managed etcd or in-process), and auth.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { findEtcdBinary } from '../../meta/index.js';
import { serveConfigSchema } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';
import type { Op } from '../../src/model/ops.js';
import { runEtcdctl, startEtcd } from '../helpers/etcd.js';
import { tempDir } from '../helpers/temp-dir.js';
import { distPath } from '../helpers/worker-script.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function config(over: Record<string, unknown>) {
  return serveConfigSchema.parse({ partitions: 2, epochMs: 10, port: 0, ...over });
}

const edges = (k: number): Op[] => [
  { op: 'upsertEdge', src: k, dst: k + 1 },
  { op: 'upsertEdge', src: `s${k}`, dst: k },
];

async function until(fn: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return fn();
}

describe('daemon metadata in etcd', () => {
  it('shows the latest epoch and blob keys to etcdctl, prunes them, and survives an outage', {
    timeout: 90_000,
  }, async () => {
    const etcd = await startEtcd();
    const dir = await tempDir();
    cleanups.push(etcd.stop, dir.remove);
    const d = await Daemon.start(config({ dataDir: dir.path, etcd: etcd.endpoints, retainMs: 300 }), {
      limits: LIMITS,
    });
    cleanups.push(() => d.close());
    let last = 0;
    for (let k = 0; k < 5; k++) last = (await d.machine.submit({ ops: edges(k) })).epoch;
    await d.meta.store.flush();
    for (const p of [0, 1]) {
      const v = await etcd.etcdctl(['get', `gart_meta_gart_latest_epoch_p${p}`, '--print-value-only']);
      expect(Number(v.trim())).toBe(d.machine.latestEpoch);
    }
    const keys = (await etcd.etcdctl(['get', '--prefix', 'gart_meta_gart_blob_m0_p1_e', '--keys-only']))
      .split('\n')
      .filter(Boolean);
    expect(keys).toContain(`gart_meta_gart_blob_m0_p1_e${last}`);
    const blob = JSON.parse(
      await etcd.etcdctl(['get', `gart_meta_gart_blob_m0_p1_e${last}`, '--print-value-only']),
    );
    expect(blob).toMatchObject({ 'machine id': 0, fid: 1, fnum: 2, epoch: last, endpoint: d.endpoint });
    for (const f of ['timestamp', 'sealedAt', 'total_vertex_num', 'total_edge_num'])
      expect(blob).toHaveProperty(f);
    expect(new Date(blob.sealedAt).getTime()).toBeGreaterThan(0);
    expect(await etcd.etcdctl(['get', 'gart_meta_writer_0_is_up', '--print-value-only'])).toMatch(/True/);
    expect(JSON.parse(await etcd.etcdctl(['get', 'gart_meta_cluster', '--print-value-only']))).toMatchObject({
      partitions: 2,
      epochMs: 10,
    });

    // Pruning: continuous writes for a while with 300 ms retention keep the key count bounded.
    const t0 = Date.now();
    let k = 100;
    while (Date.now() - t0 < 1500) await d.machine.submit({ ops: edges(k++) });
    await new Promise((r) => setTimeout(r, 1200));
    await d.machine.submit({ ops: edges(k++) });
    await d.meta.store.flush();
    const blobKeys = (await etcd.etcdctl(['get', '--prefix', 'gart_meta_gart_blob_m0_', '--keys-only']))
      .split('\n')
      .filter(Boolean);
    expect(k - 100).toBeGreaterThan(30);
    expect(blobKeys.length).toBeLessThan(2 * 60);

    // Outage: etcd down for 3 s while writes go on; they are acknowledged, and etcd catches up.
    await etcd.halt();
    const t1 = Date.now();
    let acked = 0;
    while (Date.now() - t1 < 3000) {
      await d.machine.submit({ ops: edges(k++) });
      acked++;
    }
    expect(acked).toBeGreaterThan(10);
    await etcd.restart();
    const caughtUp = await until(async () => {
      const v = await etcd
        .etcdctl(['get', 'gart_meta_gart_latest_epoch_p0', '--print-value-only'])
        .catch(() => '');
      return Number(v.trim()) === d.machine.latestEpoch;
    }, 3000);
    expect(caughtUp).toBe(true);
  });

  it('drops writer_{p}_is_up within the lease TTL when the daemon is SIGKILLed', {
    timeout: 60_000,
  }, async () => {
    const etcd = await startEtcd();
    const dir = await tempDir();
    cleanups.push(etcd.stop, dir.remove);
    const cfg = {
      dataDir: dir.path,
      etcd: etcd.endpoints,
      partitions: 2,
      epochMs: 10,
      leaseTtlSec: 2,
      port: 0,
    };
    const child = spawn(process.execPath, [distPath('test/helpers/daemon-child.ts'), JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanups.push(async () => {
      child.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`daemon exited ${c}`)));
    });
    expect(await etcd.etcdctl(['get', 'gart_meta_writer_1_is_up', '--print-value-only'])).toMatch(/True/);
    child.kill('SIGKILL');
    const t0 = Date.now();
    const gone = await until(
      async () =>
        (await etcd.etcdctl(['get', 'gart_meta_writer_1_is_up', '--print-value-only'])).trim() === '',
      6000,
    );
    expect(gone).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000 + 2500);
  });

  it('refuses to start with a partition count the cluster does not have', { timeout: 60_000 }, async () => {
    const etcd = await startEtcd();
    const a = await tempDir();
    const b = await tempDir();
    cleanups.push(etcd.stop, a.remove, b.remove);
    const d = await Daemon.start(config({ dataDir: a.path, etcd: etcd.endpoints }), { limits: LIMITS });
    await d.close();
    await expect(
      Daemon.start(config({ dataDir: b.path, etcd: etcd.endpoints, partitions: 3 }), { limits: LIMITS }),
    ).rejects.toThrow(/2.*3|3.*2/);
  });

  it('uses a managed etcd when the binary is on PATH, and keeps metadata in-process without it', {
    timeout: 60_000,
  }, async () => {
    const etcdBin = findEtcdBinary();
    expect(etcdBin).not.toBeNull();
    const a = await tempDir();
    cleanups.push(a.remove);
    const d = await Daemon.start(config({ dataDir: a.path }), { limits: LIMITS });
    cleanups.push(() => d.close());
    expect(d.meta.mode).toBe('managed');
    await d.machine.submit({ ops: edges(1) });
    await d.meta.store.flush();
    const v = await runEtcdctl(d.meta.endpoints, [
      'get',
      'gart_meta_gart_latest_epoch_p0',
      '--print-value-only',
    ]);
    expect(Number(v.trim())).toBe(d.machine.latestEpoch);
    await d.close();

    const b = await tempDir();
    cleanups.push(b.remove);
    const e = await Daemon.start(config({ dataDir: b.path }), { limits: LIMITS, path: '/nonexistent' });
    cleanups.push(() => e.close());
    expect(e.meta.mode).toBe('in-process');
    const r = await e.machine.submit({ ops: edges(2) });
    await e.meta.store.flush();
    expect(await e.meta.store.getLatestEpoch(0)).toBe(r.epoch);
  });

  it('connects to an etcd with authentication', { timeout: 60_000 }, async () => {
    const etcd = await startEtcd();
    const dir = await tempDir();
    cleanups.push(etcd.stop, dir.remove);
    await etcd.etcdctl(['user', 'add', 'root:rootpw']);
    await etcd.etcdctl(['user', 'grant-role', 'root', 'root']);
    await etcd.etcdctl(['auth', 'enable']);
    const d = await Daemon.start(
      config({ dataDir: dir.path, etcd: etcd.endpoints, etcdUsername: 'root', etcdPassword: 'rootpw' }),
      {
        limits: LIMITS,
      },
    );
    cleanups.push(() => d.close());
    const r = await d.machine.submit({ ops: edges(3) });
    await d.meta.store.flush();
    const v = await etcd.etcdctl([
      '--user',
      'root:rootpw',
      'get',
      'gart_meta_gart_latest_epoch_p0',
      '--print-value-only',
    ]);
    expect(Number(v.trim())).toBe(r.epoch);
    const badDir = await tempDir();
    cleanups.push(badDir.remove);
    await expect(
      Daemon.start(
        config({
          dataDir: badDir.path,
          etcd: etcd.endpoints,
          etcdUsername: 'root',
          etcdPassword: 'wrong',
        }),
        {
          limits: LIMITS,
        },
      ),
    ).rejects.toThrow(/auth|password|rejected/i);
  });
});
