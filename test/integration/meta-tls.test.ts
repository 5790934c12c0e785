/**
 * The store's TLS options against a real etcd that serves https and requires client
 * certificates. The certificates in test/helpers/tls/ are test-only (a throwaway CA, valid
 * 2000–2100, server SAN 127.0.0.1/localhost).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EtcdServer, launchEtcd } from '../../meta/etcd-launcher.js';
import { silentLogger } from '../../meta/logger.js';
import { createEtcdMetadataStore, type MetadataStore } from '../../meta/metadata-store.js';
import { EpochgraphError } from '../../src/errors.js';
import { runEtcdctl } from '../helpers/etcd.js';

const TLS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../helpers/tls');
const file = (name: string) => path.join(TLS_DIR, name);
const CLIENT_TLS = { caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client-key.pem') };

let etcd: EtcdServer;
const stores: MetadataStore[] = [];

beforeAll(async () => {
  etcd = await launchEtcd({
    tls: { certFile: file('server.pem'), keyFile: file('server-key.pem'), clientCaFile: file('ca.pem') },
  });
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close({ flushTimeoutMs: 200 })));
});

afterAll(async () => {
  await etcd?.dispose();
});

function open(tls: Parameters<typeof createEtcdMetadataStore>[0]['tls']): MetadataStore {
  const store = createEtcdMetadataStore({
    endpoints: etcd.endpoints,
    prefix: 'tls_',
    logger: silentLogger,
    callTimeoutMs: 2000,
    ...(tls === undefined ? {} : { tls }),
  });
  stores.push(store);
  return store;
}

describe('etcd over TLS with client certificates', () => {
  it('publishes with the CA and a client certificate', async () => {
    expect(etcd.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const store = open(CLIENT_TLS);
    await store.ensureCluster({ partitions: 1, epochMs: 50 });
    store.publish({
      machine: 0,
      fnum: 1,
      endpoint: 'http://127.0.0.1:7070',
      partitions: [{ partition: 0, epoch: 12, vertices: 0, edges: 0, sealedAtMs: Date.now() }],
    });
    await store.flush();
    const latest = await runEtcdctl(etcd.endpoints, [
      `--cacert=${CLIENT_TLS.caFile}`,
      `--cert=${CLIENT_TLS.certFile}`,
      `--key=${CLIENT_TLS.keyFile}`,
      'get',
      'tls_gart_latest_epoch_p0',
      '--print-value-only',
    ]);
    expect(latest.trim()).toBe('12');
  });

  it('is refused without a client certificate', async () => {
    const err = await open({ caFile: CLIENT_TLS.caFile })
      .ensureCluster({ partitions: 1, epochMs: 50 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EpochgraphError);
    expect((err as EpochgraphError).message).toContain(etcd.endpoints[0]);
  });

  it('rejects incomplete TLS options before connecting', () => {
    expect(() => open({ certFile: CLIENT_TLS.certFile })).toThrow(/needs tls.caFile/);
    expect(() => open({ caFile: CLIENT_TLS.caFile, certFile: CLIENT_TLS.certFile })).toThrow(
      /certFile and tls.keyFile must be given together/,
    );
  });
});
