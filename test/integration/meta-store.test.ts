/**
 * The metadata store against a real etcd, checked the way a user sees it: with the real
 * etcdctl. Each test works under its own key prefix (like etcd3's namespace-per-test helper),
 * except the first, which uses GART's default prefix exactly as DESIGN.md §6 shows it.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PublishState } from '../../meta/epoch-publisher.js';
import { type MetaLogger, silentLogger } from '../../meta/logger.js';
import { createEtcdMetadataStore, type MetadataStore } from '../../meta/metadata-store.js';
import { EpochgraphError } from '../../src/errors.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

let etcd: TestEtcd;
const stores: MetadataStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close({ flushTimeoutMs: 500 })));
});

afterAll(async () => {
  await etcd?.stop();
});

function open(prefix: string, logger: MetaLogger = silentLogger): MetadataStore {
  const store = createEtcdMetadataStore({ endpoints: etcd.endpoints, prefix, logger });
  stores.push(store);
  return store;
}

function freshPrefix(): string {
  return `t${++prefixes}_gart_meta_`;
}

function state(epoch: number, partitions: readonly number[] = [0, 1], machine = 0): PublishState {
  return {
    machine,
    fnum: 2,
    endpoint: 'http://127.0.0.1:7070',
    partitions: partitions.map((partition) => ({
      partition,
      epoch,
      vertices: 1000 + partition,
      edges: 5000 + partition,
      sealedAtMs: 1_700_000_000_123 + epoch,
    })),
  };
}

async function get(key: string): Promise<string> {
  return (await etcd.etcdctl(['get', key, '--print-value-only'])).trim();
}

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await etcd.etcdctl(['get', '--prefix', prefix, '--keys-only']);
  return out.split('\n').filter((l) => l !== '');
}

async function put(key: string, value: string): Promise<void> {
  await etcd.etcdctl(['put', key, value]);
}

describe('metadata store over etcd', () => {
  it('shows the epoch to etcdctl under GART key names', async () => {
    const store = open('gart_meta_');
    store.publish(state(42));
    await store.flush();

    expect(await get('gart_meta_gart_latest_epoch_p1')).toBe('42');
    expect(await get('gart_meta_gart_latest_epoch_p0')).toBe('42');
    expect(await keysUnder('gart_meta_gart_blob_m0_p1_e')).toEqual(['gart_meta_gart_blob_m0_p1_e42']);
    const blob = JSON.parse(await get('gart_meta_gart_blob_m0_p1_e42')) as Record<string, unknown>;
    expect(blob).toEqual({
      'machine id': 0,
      fid: 1,
      fnum: 2,
      epoch: 42,
      timestamp: 1_700_000_000,
      sealedAt: new Date(1_700_000_000_165).toISOString(),
      total_vertex_num: 1001,
      total_edge_num: 5001,
      endpoint: 'http://127.0.0.1:7070',
    });
    expect(Number.isInteger(blob.timestamp)).toBe(true);

    // One transaction for all partitions of the seal: every key has the same mod revision.
    const json = await etcd.etcdctl(['get', '--prefix', 'gart_meta_gart_', '-w', 'json']);
    const revisions = new Set([...json.matchAll(/"mod_revision":(\d+)/g)].map((m) => m[1]));
    expect([...json.matchAll(/"mod_revision":/g)].length).toBe(4);
    expect(revisions.size).toBe(1);
  });

  it('never moves latest backwards, and compares epochs as numbers', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    store.publish(state(20, [0]));
    await store.flush();
    store.publish(state(15, [0]));
    await store.flush();
    expect(await get(`${prefix}gart_latest_epoch_p0`)).toBe('20');
    expect(await keysUnder(`${prefix}gart_blob_m0_p0_e`)).toEqual([
      `${prefix}gart_blob_m0_p0_e15`,
      `${prefix}gart_blob_m0_p0_e20`,
    ]);

    await put(`${prefix}gart_latest_epoch_p0`, '100'); // "100" < "50" as bytes
    store.publish(state(50, [0]));
    await store.flush();
    expect(await get(`${prefix}gart_latest_epoch_p0`)).toBe('100');

    await put(`${prefix}gart_latest_epoch_p0`, '9'); // "9" > "10" as bytes
    store.publish(state(10, [0]));
    await store.flush();
    expect(await get(`${prefix}gart_latest_epoch_p0`)).toBe('10');

    const warnings: string[] = [];
    const logger: MetaLogger = { ...silentLogger, warn: (m) => warnings.push(m) };
    const other = open(prefix, logger);
    await put(`${prefix}gart_latest_epoch_p1`, 'garbage');
    other.publish(state(3, [1]));
    await other.flush();
    expect(await get(`${prefix}gart_latest_epoch_p1`)).toBe('3');
    expect(warnings.some((w) => /does not hold a decimal epoch/.test(w))).toBe(true);
  });

  it('keeps latest monotonic while two store instances race', async () => {
    const prefix = freshPrefix();
    const key = `${prefix}gart_latest_epoch_p0`;
    const watcherClient = new Etcd3({ hosts: [...etcd.endpoints] });
    const seen: number[] = [];
    const watcher = await watcherClient.watch().key(key).create();
    watcher.on('put', (kv) => seen.push(Number(kv.value.toString())));
    try {
      const a = open(prefix);
      const b = open(prefix);
      // Both publish a shuffled run of epochs with real time between seals, so their
      // transactions interleave at etcd and each sees the other's writes as CAS conflicts.
      // Rising epochs with ±20 of deterministic jitter: many go backwards relative to the
      // other store's latest write, and many move the key forward.
      const epochs = Array.from({ length: 300 }, (_, i) => 20 + i + ((i * 7919) % 41) - 20);
      for (let i = 0; i < epochs.length; i++) {
        (i % 2 === 0 ? a : b).publish(state(epochs[i], [0]));
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all([a.flush(), b.flush()]);
      a.publish(state(1000, [0]));
      b.publish(state(999, [0]));
      await Promise.all([a.flush(), b.flush()]);
      expect(await get(key)).toBe('1000');
      await new Promise((r) => setTimeout(r, 200)); // let the watch deliver the last events
      // The publishers coalesce (a store writes only its newest state), so how many puts the
      // race makes depends on timing: 14 in one loaded CI run, more on a quiet machine. Enough
      // to have raced: several forward moves, and CAS conflicts (below).
      expect(seen.length).toBeGreaterThan(5);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
      expect(seen.at(-1)).toBe(1000);
      expect(a.stats().casConflicts + b.stats().casConflicts).toBeGreaterThan(0);
    } finally {
      await watcher.cancel();
      watcherClient.close();
    }
  });

  it('refuses a daemon whose partition count differs from the cluster record', async () => {
    const prefix = freshPrefix();
    const first = await open(prefix).ensureCluster({ partitions: 4, epochMs: 50 });
    expect(JSON.parse(await get(`${prefix}cluster`))).toEqual({
      partitions: 4,
      epochMs: 50,
      createdAt: first.createdAt,
    });
    expect((await open(prefix).ensureCluster({ partitions: 4, epochMs: 50 })).createdAt).toBe(
      first.createdAt,
    );
    const err = await open(prefix)
      .ensureCluster({ partitions: 8, epochMs: 50 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochgraphError);
    expect((err as EpochgraphError).code).toBe('INVALID_REQUEST');
    expect((err as EpochgraphError).message).toContain(
      `the cluster at ${prefix}cluster was created with 4 partitions`,
    );
    expect((err as EpochgraphError).message).toContain('started with 8');
    expect(JSON.parse(await get(`${prefix}cluster`)).partitions).toBe(4);
  });

  it('keeps the blob key count bounded under continuous publishing with a moving floor', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    const retained = 10;
    let epoch = 0;
    let maxKeys = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      epoch++;
      store.publish(state(epoch));
      store.setRetainedFloor(Math.max(0, epoch - retained));
      await new Promise((r) => setTimeout(r, 2));
      if (epoch % 25 === 0) maxKeys = Math.max(maxKeys, (await keysUnder(`${prefix}gart_blob_`)).length);
    }
    await store.flush();
    const left = await keysUnder(`${prefix}gart_blob_`);
    expect(epoch).toBeGreaterThan(100);
    expect(store.stats().publishes).toBeGreaterThan(50);
    // Between a publish txn and the prune that follows it, one extra epoch per partition.
    expect(maxKeys).toBeLessThanOrEqual(2 * (retained + 2));
    expect(left.length).toBeLessThanOrEqual(2 * (retained + 1));
    expect(left).toContain(`${prefix}gart_blob_m0_p0_e${epoch}`);
    expect(left).toContain(`${prefix}gart_blob_m0_p1_e${epoch}`);
    for (const key of left)
      expect(Number(/_e(\d+)$/.exec(key)?.[1])).toBeGreaterThanOrEqual(epoch - retained);
    expect(store.stats().blobKeys).toBe(left.length);
  });

  it('prunes blob keys left by an earlier run, by epoch number, and only its own', async () => {
    const prefix = freshPrefix();
    for (const e of [1, 9, 10, 11, 100]) await put(`${prefix}gart_blob_m0_p0_e${e}`, '{}');
    await put(`${prefix}gart_blob_m0_p1_e2`, '{}');
    await put(`${prefix}gart_blob_m1_p0_e5`, '{}'); // machine 1's
    await put(`${prefix}gart_blob_m10_p0_e5`, '{}'); // machine 10's ("m1" is its prefix as text)
    await put(`${prefix}gart_blob_m0_p0_ejunk`, '{}'); // not a blob key we write
    const store = open(prefix);
    store.publish(state(101, [0]));
    store.setRetainedFloor(11);
    await store.flush();
    expect(await keysUnder(`${prefix}gart_blob_`)).toEqual(
      [
        `${prefix}gart_blob_m0_p0_e100`,
        `${prefix}gart_blob_m0_p0_e101`,
        `${prefix}gart_blob_m0_p0_e11`,
        `${prefix}gart_blob_m0_p0_ejunk`,
        `${prefix}gart_blob_m10_p0_e5`,
        `${prefix}gart_blob_m1_p0_e5`,
      ].sort(),
    );
    expect(store.stats().prunedKeys).toBe(4);
  });

  it('registers on a lease and close() revokes it at once', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    await store.register({
      machine: 2,
      endpoint: 'http://127.0.0.1:7071',
      partitions: [0, 1],
      pid: 4242,
      startedAt: '2024-05-01T12:00:00.000Z',
    });
    expect(await get(`${prefix}writer_0_is_up`)).toBe('True');
    expect(await get(`${prefix}writer_1_is_up`)).toBe('True');
    expect(JSON.parse(await get(`${prefix}machines/m2`))).toEqual({
      endpoint: 'http://127.0.0.1:7071',
      partitions: [0, 1],
      pid: 4242,
      startedAt: '2024-05-01T12:00:00.000Z',
    });
    store.publish(state(7, [0, 1], 2));
    await store.close();
    // close() flushed the pending publish before revoking.
    expect(await get(`${prefix}gart_latest_epoch_p1`)).toBe('7');
    expect(await keysUnder(`${prefix}writer_`)).toEqual([]);
    expect(await keysUnder(`${prefix}machines/`)).toEqual([]);
  });

  it('writes schemas, newest wins, and reads back what it wrote', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    store.putSchema(0, '{"labels":["a"]}');
    store.putSchema(0, '{"labels":["a","b"]}');
    store.publish(state(5));
    await store.flush();
    expect(await get(`${prefix}gart_schema_p0`)).toBe('{"labels":["a","b"]}');
    expect(await store.getSchema(0)).toBe('{"labels":["a","b"]}');
    expect(await store.getLatestEpoch(1)).toBe(5);
    expect((await store.getBlob(0, 1, 5))?.total_edge_num).toBe(5001);
    expect(await store.listBlobKeys(0)).toEqual([
      { machine: 0, partition: 0, epoch: 5 },
      { machine: 0, partition: 1, epoch: 5 },
    ]);
    await put(`${prefix}gart_blob_m0_p0_e6`, '{"epoch":"six"}');
    await expect(store.getBlob(0, 0, 6)).rejects.toThrow(/gart_blob_m0_p0_e6 is malformed/);
  });

  it('fails with a clear error when etcd is unreachable', async () => {
    const store = createEtcdMetadataStore({
      endpoints: ['http://127.0.0.1:1'],
      logger: silentLogger,
      callTimeoutMs: 1000,
    });
    stores.push(store);
    const err = await store.ensureCluster({ partitions: 1, epochMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochgraphError);
    expect((err as EpochgraphError).code).toBe('NOT_READY');
    expect((err as EpochgraphError).message).toMatch(/etcd at http:\/\/127\.0\.0\.1:1 is unreachable/);
  });
});
