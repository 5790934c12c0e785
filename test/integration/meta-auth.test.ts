/**
 * etcd with authentication enabled (set up with the real etcdctl, as an operator would):
 * the store connects as a user whose role may read and write only the metadata prefix,
 * and a wrong password or a missing grant fails with an error that says what to fix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../meta/logger.js';
import { createEtcdMetadataStore, type MetadataStore } from '../../meta/metadata-store.js';
import { EpochgraphError } from '../../src/errors.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

const ROOT = ['--user', 'root:rootpw'];
const PREFIX = 'gart_meta_';

let etcd: TestEtcd;
const stores: MetadataStore[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  await etcd.etcdctl(['user', 'add', 'root:rootpw']);
  await etcd.etcdctl(['role', 'add', 'root']);
  await etcd.etcdctl(['user', 'grant-role', 'root', 'root']);
  await etcd.etcdctl(['user', 'add', 'gart:gartpw']);
  await etcd.etcdctl(['role', 'add', 'gart-rw']);
  await etcd.etcdctl(['role', 'grant-permission', 'gart-rw', '--prefix=true', 'readwrite', PREFIX]);
  await etcd.etcdctl(['user', 'grant-role', 'gart', 'gart-rw']);
  await etcd.etcdctl(['user', 'add', 'other:otherpw']); // no role: may touch nothing
  await etcd.etcdctl(['auth', 'enable']);
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close({ flushTimeoutMs: 200 })));
});

afterAll(async () => {
  await etcd?.stop();
});

function open(username?: string, password?: string): MetadataStore {
  const store = createEtcdMetadataStore({
    endpoints: etcd.endpoints,
    prefix: PREFIX,
    logger: silentLogger,
    ...(username === undefined || password === undefined ? {} : { auth: { username, password } }),
  });
  stores.push(store);
  return store;
}

async function failure(p: Promise<unknown>): Promise<EpochgraphError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EpochgraphError);
  return err as EpochgraphError;
}

describe('etcd with authentication', () => {
  it('works end to end as a user with readwrite on the prefix', async () => {
    const store = open('gart', 'gartpw');
    expect((await store.ensureCluster({ partitions: 2, epochMs: 50 })).partitions).toBe(2);
    await store.register({
      machine: 0,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [0, 1],
      pid: 1,
      startedAt: new Date().toISOString(),
    });
    store.publish({
      machine: 0,
      fnum: 2,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [{ partition: 1, epoch: 9, vertices: 1, edges: 1, sealedAtMs: Date.now() }],
    });
    store.setRetainedFloor(5);
    await store.flush();
    const latest = await etcd.etcdctl([
      ...ROOT,
      'get',
      `${PREFIX}gart_latest_epoch_p1`,
      '--print-value-only',
    ]);
    expect(latest.trim()).toBe('9');
    const up = await etcd.etcdctl([...ROOT, 'get', `${PREFIX}writer_1_is_up`, '--print-value-only']);
    expect(up.trim()).toBe('True');
    await store.close();
    // The lease was revoked by a user who may only write the prefix.
    const gone = await etcd.etcdctl([...ROOT, 'get', '--prefix', `${PREFIX}writer_`, '--keys-only']);
    expect(gone.trim()).toBe('');
  });

  it('names the user when the password is wrong', async () => {
    const err = await failure(open('gart', 'wrong').ensureCluster({ partitions: 2, epochMs: 50 }));
    expect(err.code).toBe('INVALID_REQUEST');
    expect(err.message).toMatch(/rejected authentication as user "gart"/);
    expect(err.message).toMatch(/authentication failed/);
  });

  it('says what is missing without credentials or without a grant', async () => {
    const anonymous = await failure(open().ensureCluster({ partitions: 2, epochMs: 50 }));
    expect(anonymous.code).toBe('INVALID_REQUEST');
    expect(anonymous.message).toMatch(
      /denied an unauthenticated client.*give the daemon a username and password/,
    );

    const ungranted = await failure(open('other', 'otherpw').ensureCluster({ partitions: 2, epochMs: 50 }));
    expect(ungranted.code).toBe('INVALID_REQUEST');
    expect(ungranted.message).toMatch(
      /denied user "other".*grant a role of user "other" readwrite on the key prefix "gart_meta_"/,
    );

    const reg = await failure(
      open('other', 'otherpw').register({
        machine: 0,
        endpoint: '',
        partitions: [0],
        pid: 1,
        startedAt: new Date().toISOString(),
      }),
    );
    expect(reg.message).toMatch(/denied user "other" while registering machine 0/);
  });
});
