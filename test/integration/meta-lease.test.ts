/**
 * Leases against a real etcd: a killed writer's keys expire with its lease; a lease revoked
 * behind the store's back, or lost in an outage, is replaced by a new registration.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../meta/logger.js';
import { createEtcdMetadataStore, type MetadataStore } from '../../meta/metadata-store.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'dist/test/helpers/meta-registrant.js');
const TTL_SEC = 2;

/**
 * Compile the fixture and what it imports (meta/, src/errors) into dist/ with the project's
 * compiler settings, so the child runs JavaScript without a TS loader. Only these files are
 * compiled, so work in progress elsewhere in the tree cannot break this test.
 */
function buildFixture(): Promise<void> {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [
    tsc,
    '--outDir',
    'dist',
    '--rootDir',
    '.',
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2022',
    '--strict',
    '--skipLibCheck',
    '--esModuleInterop',
    '--types',
    'node',
    'test/helpers/meta-registrant.ts',
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT }, (err, stdout, stderr) => {
      if (err) reject(new Error(`building the fixture failed:\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

let etcd: TestEtcd;
const children: ChildProcess[] = [];
const stores: MetadataStore[] = [];

beforeAll(async () => {
  const [server] = await Promise.all([startEtcd(), buildFixture()]);
  etcd = server;
  expect(existsSync(FIXTURE)).toBe(true);
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(stores.splice(0).map((s) => s.close({ flushTimeoutMs: 200 })));
});

afterAll(async () => {
  await etcd?.stop();
});

/** Spawn the registrant and wait for its `registered <leaseId>` line. */
function spawnRegistrant(
  prefix: string,
  partitions: readonly number[],
): Promise<{ child: ChildProcess; leaseId: string }> {
  const child = spawn(
    process.execPath,
    [FIXTURE, etcd.endpoints.join(','), prefix, String(TTL_SEC), '0', partitions.join(',')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`registrant did not register: ${err}`)), 15_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /registered (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, leaseId: m[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registrant exited with ${code}: ${err}`));
    });
  });
}

async function storedValue(key: string): Promise<string> {
  return (await etcd.etcdctl(['get', key, '--print-value-only'])).trim();
}

/** The lease id a key is attached to, in decimal, or null when the key is absent. */
async function leaseOf(key: string): Promise<string | null> {
  // Lease ids are int64: read the digits, since JSON.parse would round them to a double.
  const m = /"lease":(\d+)/.exec(await etcd.etcdctl(['get', key, '-w', 'json']));
  return m === null ? null : m[1];
}

/** Poll until `probe` is true; returns the elapsed ms. */
async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('machine lease (real etcd)', () => {
  it('a SIGKILLed writer loses writer_{p}_is_up within the lease TTL', async () => {
    const prefix = 'lease1_';
    const { child, leaseId } = await spawnRegistrant(prefix, [0, 1]);
    expect(await storedValue(`${prefix}writer_0_is_up`)).toBe('True');
    expect(await storedValue(`${prefix}writer_1_is_up`)).toBe('True');
    expect(await leaseOf(`${prefix}writer_0_is_up`)).toBe(leaseId);
    const machine = JSON.parse(await storedValue(`${prefix}machines/m0`)) as {
      pid: number;
      partitions: number[];
    };
    expect(machine.pid).toBe(child.pid);
    expect(machine.partitions).toEqual([0, 1]);

    child.kill('SIGKILL');
    // Killed, not closed: nothing revoked the lease, so the keys are still there right after.
    expect(await storedValue(`${prefix}writer_0_is_up`)).toBe('True');
    const gone = await waitUntil(
      'writer keys to expire',
      async () => (await etcd.etcdctl(['get', '--prefix', `${prefix}writer_`, '--keys-only'])).trim() === '',
      (TTL_SEC + 3) * 1000,
    );
    // etcd checks expiry every 500 ms; the TTL counts from the last keepalive (≤ TTL/3 ago).
    expect(gone).toBeLessThan((TTL_SEC + 1) * 1000);
    expect(await storedValue(`${prefix}machines/m0`)).toBe('');
  });

  it('a writer that shuts down cleanly revokes its lease at once', async () => {
    const prefix = 'lease2_';
    const { child } = await spawnRegistrant(prefix, [3]);
    expect(await storedValue(`${prefix}writer_3_is_up`)).toBe('True');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await storedValue(`${prefix}writer_3_is_up`)).toBe('');
  });

  it('registers again when the lease is revoked behind its back', async () => {
    const prefix = 'lease3_';
    const store = createEtcdMetadataStore({
      endpoints: etcd.endpoints,
      prefix,
      leaseTtlSec: TTL_SEC,
      logger: silentLogger,
    });
    stores.push(store);
    await store.register({
      machine: 0,
      endpoint: 'http://h:1',
      partitions: [0],
      pid: 1,
      startedAt: new Date().toISOString(),
    });
    const first = await leaseOf(`${prefix}writer_0_is_up`);
    expect(first).toBe(store.stats().leaseId);
    await etcd.etcdctl(['lease', 'revoke', BigInt(first!).toString(16)]);
    expect(await storedValue(`${prefix}writer_0_is_up`)).toBe('');
    // The next keepalive (every TTL/3) learns the lease is gone; the store registers again.
    await waitUntil(
      're-registration',
      async () => (await storedValue(`${prefix}writer_0_is_up`)) === 'True',
      5000,
    );
    const second = await leaseOf(`${prefix}writer_0_is_up`);
    expect(second).not.toBe(first);
    expect(await leaseOf(`${prefix}machines/m0`)).toBe(second);
    expect(store.stats()).toMatchObject({ registered: true, leaseId: second, reRegistrations: 1 });
  });

  it('is registered again after an outage longer than the lease TTL', async () => {
    const prefix = 'lease4_';
    const store = createEtcdMetadataStore({
      endpoints: etcd.endpoints,
      prefix,
      leaseTtlSec: TTL_SEC,
      logger: silentLogger,
    });
    stores.push(store);
    await store.register({
      machine: 0,
      endpoint: 'http://h:1',
      partitions: [5],
      pid: 1,
      startedAt: new Date().toISOString(),
    });
    await etcd.halt();
    await new Promise((r) => setTimeout(r, (2 * TTL_SEC + 1) * 1000));
    await etcd.restart();
    await waitUntil(
      'writer key after the outage',
      async () => (await storedValue(`${prefix}writer_5_is_up`)) === 'True' && store.stats().registered,
      (TTL_SEC + 3) * 1000,
    );
    // The key must stay: it is on a live lease, not on one etcd is about to expire.
    await new Promise((r) => setTimeout(r, (TTL_SEC + 1) * 1000));
    expect(await storedValue(`${prefix}writer_5_is_up`)).toBe('True');
  }, 30_000);
});
