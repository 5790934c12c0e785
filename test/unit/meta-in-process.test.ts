/**
 * The metadata store over the in-process backend: the same code path as over etcd (only the
 * KvBackend differs), so these tests pin down CAS, coalescing, pruning and registration
 * without a server. The etcd side is covered by test/integration/meta-*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PublishState } from '../../meta/epoch-publisher.js';
import { metaKeys } from '../../meta/keys.js';
import type { KvBackend, KvTxn, KvTxnResult } from '../../meta/kv-backend.js';
import { type MetaLogger, silentLogger } from '../../meta/logger.js';
import { MemoryKv } from '../../meta/memory-kv.js';
import { createInProcessMetadataStore, createKvMetadataStore } from '../../meta/metadata-store.js';
import { EpochgraphError } from '../../src/errors.js';

const keys = metaKeys();

function state(epoch: number, partitions: readonly number[] = [0, 1], machine = 0): PublishState {
  return {
    machine,
    fnum: 4,
    endpoint: 'http://127.0.0.1:7070',
    partitions: partitions.map((partition) => ({
      partition,
      epoch,
      vertices: epoch * 10 + partition,
      edges: epoch * 100 + partition,
      sealedAtMs: 1_700_000_000_000 + epoch,
    })),
  };
}

/**
 * The in-process backend, shared by several stores (closing one store must not close the
 * map), with an outage switch: while `down`, every call fails the way an unreachable etcd
 * does. This injects faults into the real in-process backend; nothing about etcd is faked.
 */
class SharedKv implements KvBackend {
  readonly kind = 'in-process' as const;
  readonly endpoints: readonly string[] = [];
  down = false;
  /** Transactions to apply and then fail, as when an answer is lost (a timeout after etcd applied it). */
  loseAnswers = 0;
  calls = 0;
  /** Values of every successful put, in commit order, for the keys being watched. */
  readonly history = new Map<string, string[]>();

  constructor(
    readonly inner: MemoryKv = new MemoryKv(),
    private readonly watched: ReadonlySet<string> = new Set(),
  ) {}

  private check(): void {
    this.calls++;
    if (this.down) throw new Error('14 UNAVAILABLE: injected outage');
  }
  async get(key: string) {
    this.check();
    return this.inner.get(key);
  }
  async listKeys(prefix: string) {
    this.check();
    return this.inner.listKeys(prefix);
  }
  async txn(t: KvTxn): Promise<KvTxnResult> {
    this.check();
    const r = await this.inner.txn(t);
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      throw new Error('4 DEADLINE_EXCEEDED: injected lost answer');
    }
    if (r.succeeded) {
      for (const w of t.writes) {
        if (w.kind === 'put' && this.watched.has(w.key)) {
          const h = this.history.get(w.key) ?? [];
          h.push(w.value);
          this.history.set(w.key, h);
        }
      }
    }
    return r;
  }
  async grantLease(ttlSec: number) {
    this.check();
    return this.inner.grantLease(ttlSec);
  }
  close(): void {}
  async put(key: string, value: string): Promise<void> {
    await this.inner.txn({ compares: [], writes: [{ kind: 'put', key, value }], readsOnFailure: [] });
  }
}

function collectingLogger(): MetaLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('in-process metadata store', () => {
  it('publishes blob and latest-epoch keys with every GART field', async () => {
    const store = createInProcessMetadataStore({ logger: silentLogger });
    expect(store.kind).toBe('in-process');
    store.publish(state(7));
    await store.flush();
    expect(await store.getLatestEpoch(0)).toBe(7);
    expect(await store.getLatestEpoch(1)).toBe(7);
    expect(await store.getLatestEpoch(2)).toBeNull();
    expect(await store.getBlob(0, 1, 7)).toEqual({
      'machine id': 0,
      fid: 1,
      fnum: 4,
      epoch: 7,
      timestamp: 1_700_000_000,
      sealedAt: new Date(1_700_000_000_007).toISOString(),
      total_vertex_num: 71,
      total_edge_num: 701,
      endpoint: 'http://127.0.0.1:7070',
    });
    expect(await store.listBlobKeys(0)).toEqual([
      { machine: 0, partition: 0, epoch: 7 },
      { machine: 0, partition: 1, epoch: 7 },
    ]);
    expect(store.stats().lastPublishedEpoch).toBe(7);
    await store.close();
  });

  it('never moves the latest epoch backwards, comparing numbers rather than bytes', async () => {
    const kv = new SharedKv();
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    store.publish(state(20, [0]));
    await store.flush();
    store.publish(state(15, [0]));
    await store.flush();
    expect(await store.getLatestEpoch(0)).toBe(20);
    expect(await store.getBlob(0, 0, 15)).not.toBeNull(); // the older blob is still recorded

    // Another writer moved the key behind our back: "100" < "50" as bytes, 100 > 50 as numbers.
    await kv.put(keys.latestEpoch(0), '100');
    store.publish(state(50, [0]));
    await store.flush();
    expect(await store.getLatestEpoch(0)).toBe(100);
    // "9" > "10" as bytes; the publisher must still advance it.
    await kv.put(keys.latestEpoch(0), '9');
    store.publish(state(10, [0]));
    await store.flush();
    expect(await store.getLatestEpoch(0)).toBe(10);
    expect(store.stats().casConflicts).toBe(2);
    await store.close();
  });

  it('keeps latest monotonic when two stores race on the same keys', async () => {
    const watched = new Set([keys.latestEpoch(0), keys.latestEpoch(1)]);
    const kv = new SharedKv(new MemoryKv(), watched);
    const a = createKvMetadataStore(kv, { logger: silentLogger });
    const b = createKvMetadataStore(kv, { logger: silentLogger });
    // Interleave out-of-order epochs from both writers, yielding so their txns interleave.
    // Rising epochs with ±20 of deterministic jitter, so many go backwards.
    const epochs = Array.from({ length: 400 }, (_, i) => 20 + i + ((i * 7919) % 41) - 20);
    for (let i = 0; i < epochs.length; i++) {
      (i % 2 === 0 ? a : b).publish(state(epochs[i]));
      if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all([a.flush(), b.flush()]);
    for (const key of watched) {
      const seen = (kv.history.get(key) ?? []).map(Number);
      expect(seen.length).toBeGreaterThan(20);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    }
    // Coalescing may skip states, but each store's last state is written by flush().
    const latest = await a.getLatestEpoch(0);
    expect(latest).toBeGreaterThanOrEqual(Math.max(epochs.at(-1)!, epochs.at(-2)!));
    expect(latest).toBeLessThanOrEqual(Math.max(...epochs));
    expect(a.stats().casConflicts + b.stats().casConflicts).toBeGreaterThan(0);
    await a.close();
    await b.close();
  });

  it('writes the newest epoch of a race when it is published last', async () => {
    const kv = new SharedKv();
    const a = createKvMetadataStore(kv, { logger: silentLogger });
    const b = createKvMetadataStore(kv, { logger: silentLogger });
    for (let e = 1; e <= 50; e++) {
      a.publish(state(2 * e, [0]));
      b.publish(state(2 * e - 1, [0]));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([a.flush(), b.flush()]);
    expect(await a.getLatestEpoch(0)).toBe(100);
    await a.close();
    await b.close();
  });

  it('prunes below the floor by epoch number, including keys left by an earlier run', async () => {
    const kv = new SharedKv();
    // An earlier run of machine 0 left these; e9 < e10 < e100 numerically but not as bytes.
    for (const e of [1, 9, 10, 11, 100]) await kv.put(keys.blob(0, 0, e), '{}');
    await kv.put(keys.blob(1, 0, 5), '{}'); // another machine: not ours to prune
    await kv.put(`${keys.machineBlobPrefix(0)}junk`, '{}'); // not a blob key: left alone
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    store.publish(state(101, [0]));
    store.setRetainedFloor(11);
    await store.flush();
    const left = (await store.listBlobKeys(0)).map((k) => k.epoch);
    expect(left).toEqual([11, 100, 101]);
    expect(await kv.inner.get(keys.blob(1, 0, 5))).not.toBeNull();
    expect(await kv.inner.get(`${keys.machineBlobPrefix(0)}junk`)).not.toBeNull();
    expect(store.stats().prunedKeys).toBe(3);
    expect(store.stats().blobKeys).toBe(3);
    await store.close();
  });

  it('prunes a blob key whose write was applied but whose answer was lost', async () => {
    const kv = new SharedKv();
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    kv.loseAnswers = 1;
    store.publish(state(5, [0]));
    // Let the lost write happen, then replace it before the retry: epoch 5 is never retried.
    await waitFor('the lost write', async () => (kv.loseAnswers === 0 ? true : undefined));
    store.publish(state(6, [0]));
    await store.flush();
    expect((await kv.inner.listKeys(keys.blobPrefix())).length).toBe(2);
    store.setRetainedFloor(6);
    await store.flush();
    expect((await store.listBlobKeys(0)).map((k) => k.epoch)).toEqual([6]);
    await store.close();
  });

  it('keeps the number of blob keys bounded under continuous publishing with a moving floor', async () => {
    const kv = new SharedKv();
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    const retained = 20;
    let maxKeys = 0;
    for (let e = 1; e <= 2000; e++) {
      store.publish(state(e));
      store.setRetainedFloor(Math.max(0, e - retained));
      // Yield so the in-process writes (all microtasks) run before the next seal.
      await new Promise((r) => setImmediate(r));
      if (e % 50 === 0) {
        await store.flush();
        maxKeys = Math.max(maxKeys, (await kv.inner.listKeys(keys.blobPrefix())).length);
      }
    }
    await store.flush();
    const left = await store.listBlobKeys(0);
    expect(left.length).toBe(2 * (retained + 1)); // every epoch was written: the loop yields
    expect(Math.min(...left.map((k) => k.epoch))).toBe(2000 - retained);
    expect(maxKeys).toBeLessThanOrEqual(2 * (retained + 1));
    expect(store.stats().blobKeys).toBe(left.length);
    await store.close();
  });

  it('coalesces while the backend is down, never blocking or throwing, and catches up', async () => {
    const kv = new SharedKv();
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    store.publish(state(1));
    await store.flush();
    kv.down = true;
    let slowest = 0;
    for (let e = 2; e <= 20_000; e++) {
      const t0 = performance.now();
      store.publish(state(e));
      slowest = Math.max(slowest, performance.now() - t0);
    }
    expect(slowest).toBeLessThan(50);
    // Only the newest state per partition is held, however long the outage.
    expect(store.stats().pendingPartitions).toBe(2);
    let flushed = false;
    const flushing = store.flush().then(() => {
      flushed = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(flushed).toBe(false);
    expect(store.stats().etcdUp).toBe(false);
    const callsWhileDown = kv.calls;
    expect(callsWhileDown).toBeLessThan(40); // backoff, not a busy loop
    kv.down = false;
    const t0 = performance.now();
    await flushing;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await store.getLatestEpoch(1)).toBe(20_000);
    // Epochs 2..19999 were replaced before they could be written: no blob for them.
    expect((await store.listBlobKeys(0)).map((k) => k.epoch)).toEqual([1, 20_000, 1, 20_000]);
    expect(store.stats().etcdUp).toBe(true);
    expect(store.stats().lastError?.message).toMatch(/injected outage/);
    await store.close();
  });

  it('registers on a lease, and close() removes the registration at once', async () => {
    const store = createInProcessMetadataStore({ logger: silentLogger });
    await store.register({
      machine: 3,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [0, 2],
      pid: 1234,
      startedAt: '2024-01-01T00:00:00.000Z',
    });
    expect(await store.isWriterUp(0)).toBe(true);
    expect(await store.isWriterUp(1)).toBe(false);
    expect(await store.isWriterUp(2)).toBe(true);
    expect(await store.getMachine(3)).toEqual({
      endpoint: 'http://127.0.0.1:7070',
      partitions: [0, 2],
      pid: 1234,
      startedAt: '2024-01-01T00:00:00.000Z',
    });
    expect(store.stats().registered).toBe(true);
    const kv = new SharedKv();
    const other = createKvMetadataStore(kv, { logger: silentLogger });
    await other.register({
      machine: 0,
      endpoint: '',
      partitions: [1],
      pid: 1,
      startedAt: new Date().toISOString(),
    });
    expect(await kv.inner.get(keys.writerUp(1))).not.toBeNull();
    await other.close();
    expect(await kv.inner.get(keys.writerUp(1))).toBeNull();
    expect(await kv.inner.get(keys.machine(0))).toBeNull();
    // Publishing after close is ignored, not an error.
    expect(() => other.publish(state(1))).not.toThrow();
    await store.close();
  });

  it('a second register() replaces the first: dropped partitions lose their writer key', async () => {
    const store = createInProcessMetadataStore({ logger: silentLogger });
    const reg = { machine: 0, endpoint: '', pid: 1, startedAt: new Date().toISOString() };
    await store.register({ ...reg, partitions: [0, 1] });
    const firstLease = store.stats().leaseId;
    await store.register({ ...reg, partitions: [1, 2] });
    expect(store.stats().leaseId).not.toBe(firstLease);
    expect(await store.isWriterUp(0)).toBe(false);
    expect(await store.isWriterUp(1)).toBe(true);
    expect(await store.isWriterUp(2)).toBe(true);
    expect((await store.getMachine(0))?.partitions).toEqual([1, 2]);
    await store.close();
  });

  it('creates the cluster record once and refuses another partition count', async () => {
    const kv = new SharedKv();
    const logger = collectingLogger();
    const a = createKvMetadataStore(kv, { logger });
    const created = await a.ensureCluster({ partitions: 4, epochMs: 50 });
    expect(created.partitions).toBe(4);
    const again = await a.ensureCluster({ partitions: 4, epochMs: 50 });
    expect(again.createdAt).toBe(created.createdAt);
    await a.ensureCluster({ partitions: 4, epochMs: 10 });
    expect(logger.lines.some((l) => l.startsWith('warn') && /epoch interval/.test(l))).toBe(true);
    const err = await a.ensureCluster({ partitions: 8, epochMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochgraphError);
    expect((err as EpochgraphError).code).toBe('INVALID_REQUEST');
    expect((err as EpochgraphError).message).toMatch(/created with 4 partitions.*started with 8/);
    expect((await a.getCluster())?.partitions).toBe(4);
    await kv.put(metaKeys('bad_').cluster(), '{"partitions":"four"}');
    const b = createKvMetadataStore(kv, { logger: silentLogger, prefix: 'bad_' });
    await expect(b.ensureCluster({ partitions: 4, epochMs: 50 })).rejects.toThrow(/bad_cluster is malformed/);
    await a.close();
    await b.close();
  });

  it('coalesces schema writes and keeps the newest', async () => {
    const store = createInProcessMetadataStore({ logger: silentLogger });
    store.putSchema(0, '{"v":1}');
    store.putSchema(0, '{"v":2}');
    store.putSchema(1, '{"v":3}');
    await store.flush();
    expect(await store.getSchema(0)).toBe('{"v":2}');
    expect(await store.getSchema(1)).toBe('{"v":3}');
    expect(() => store.putSchema(0, '{nope')).toThrow(/schema of partition 0 is not JSON/);
    await store.close();
  });

  it('rejects malformed states synchronously, naming the field', () => {
    const store = createInProcessMetadataStore({ logger: silentLogger });
    const bad = (s: Partial<PublishState>) => () => store.publish({ ...state(1), ...s });
    expect(bad({ fnum: 0 })).toThrow(/fnum/);
    expect(bad({ machine: -1 })).toThrow(/machine/);
    expect(bad({ partitions: [{ partition: 4, epoch: 1, vertices: 0, edges: 0, sealedAtMs: 0 }] })).toThrow(
      /partition 4 is out of range for 4 partitions/,
    );
    expect(bad({ partitions: [{ partition: 0, epoch: 1.5, vertices: 0, edges: 0, sealedAtMs: 0 }] })).toThrow(
      /epoch/,
    );
    const twice = { partition: 1, epoch: 1, vertices: 0, edges: 0, sealedAtMs: 0 };
    expect(bad({ partitions: [twice, twice] })).toThrow(/partition 1 appears twice/);
    expect(() => store.setRetainedFloor(-1)).toThrow(/floor/);
    void store.close();
  });

  it('waits for registration to succeed before reporting it, and reports failure', async () => {
    const kv = new SharedKv();
    const store = createKvMetadataStore(kv, { logger: silentLogger });
    kv.down = true;
    await expect(
      store.register({
        machine: 0,
        endpoint: '',
        partitions: [0],
        pid: 1,
        startedAt: new Date().toISOString(),
      }),
    ).rejects.toThrow(/registering machine 0/);
    expect(store.stats().registered).toBe(false);
    kv.down = false;
    await store.register({
      machine: 0,
      endpoint: '',
      partitions: [0],
      pid: 1,
      startedAt: new Date().toISOString(),
    });
    await waitFor('writer key', async () => ((await store.isWriterUp(0)) ? true : undefined));
    await store.close();
  });
});
