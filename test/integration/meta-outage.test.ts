/**
 * etcd goes away for ~3 s while the daemon keeps sealing: publish() must neither throw nor
 * block, and once etcd is back (same ports, same data dir) the newest epoch must reach it
 * within about a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishState } from '../../meta/epoch-publisher.js';
import { silentLogger } from '../../meta/logger.js';
import { createEtcdMetadataStore, type MetadataStore } from '../../meta/metadata-store.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

const SEAL_EVERY_MS = 5;
const OUTAGE_MS = 3000;
/** DESIGN.md §6: the publisher catches up when etcd returns; we allow 2 s from healthy. */
const CATCH_UP_LIMIT_MS = 2000;

let etcd: TestEtcd;
let store: MetadataStore | undefined;
let reader: MetadataStore | undefined;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await store?.close({ flushTimeoutMs: 500 });
  await reader?.close({ flushTimeoutMs: 0 });
  await etcd?.stop();
});

function state(epoch: number): PublishState {
  return {
    machine: 0,
    fnum: 2,
    endpoint: 'http://127.0.0.1:7070',
    partitions: [0, 1].map((partition) => ({
      partition,
      epoch,
      vertices: epoch,
      edges: epoch,
      sealedAtMs: Date.now(),
    })),
  };
}

describe('etcd outage', () => {
  it('publishing never throws or blocks, and etcd gets the newest epoch soon after it returns', async () => {
    const prefix = 'outage_';
    store = createEtcdMetadataStore({
      endpoints: etcd.endpoints,
      prefix,
      logger: silentLogger,
      callTimeoutMs: 1000,
    });
    reader = createEtcdMetadataStore({ endpoints: etcd.endpoints, prefix, logger: silentLogger });
    await store.register({
      machine: 0,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [0, 1],
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
    const s = store;

    let epoch = 0;
    let threw = 0;
    let slowestCallMs = 0;
    const seal = () => {
      epoch++;
      const t0 = performance.now();
      try {
        s.publish(state(epoch));
        s.setRetainedFloor(Math.max(0, epoch - 50));
      } catch {
        threw++;
      }
      slowestCallMs = Math.max(slowestCallMs, performance.now() - t0);
    };
    // Sealing runs on a timer; if publish() blocked the event loop, the ticks would stall.
    const timer = setInterval(seal, SEAL_EVERY_MS);
    try {
      await new Promise((r) => setTimeout(r, 300));
      await s.flush();
      expect(await reader.getLatestEpoch(0)).toBeGreaterThan(0);

      await etcd.halt();
      const epochAtHalt = epoch;
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      const sealedDuringOutage = epoch - epochAtHalt;
      // 3 s at one seal per 5 ms: sealing went on (timers are coarse on a busy box).
      expect(sealedDuringOutage).toBeGreaterThan(OUTAGE_MS / SEAL_EVERY_MS / 4);
      expect(s.stats().etcdUp).toBe(false);
      // The publisher holds one pending state per partition, not a queue of the outage.
      expect(s.stats().pendingPartitions).toBeLessThanOrEqual(2);

      await etcd.restart();
      const healthyAt = performance.now();
      const target = epoch; // the newest epoch sealed when etcd became healthy
      let caughtUpMs = -1;
      while (performance.now() - healthyAt < CATCH_UP_LIMIT_MS + 3000) {
        const latest = await reader.getLatestEpoch(1).catch(() => null);
        if (latest !== null && latest >= target) {
          caughtUpMs = performance.now() - healthyAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(caughtUpMs).toBeGreaterThanOrEqual(0);
      expect(caughtUpMs).toBeLessThan(CATCH_UP_LIMIT_MS);
    } finally {
      clearInterval(timer);
    }
    await s.flush();
    expect(await reader.getLatestEpoch(0)).toBe(epoch);
    expect(await reader.getLatestEpoch(1)).toBe(epoch);
    expect(threw).toBe(0);
    expect(slowestCallMs).toBeLessThan(20);
    expect(s.stats().etcdUp).toBe(true);
    // Pruning caught up as well: only the retained window is left.
    const blobs = await reader.listBlobKeys(0);
    expect(Math.min(...blobs.map((b) => b.epoch))).toBeGreaterThanOrEqual(epoch - 50);
    // The registration survived or was renewed.
    expect(await reader.isWriterUp(0)).toBe(true);
  }, 30_000);
});
