/**
 * Picks the metadata store for the daemon (DESIGN.md §6, "Embedded default"):
 * - `--etcd URL,...` given: that etcd cluster (external);
 * - otherwise, an `etcd` binary on PATH: start one as a child process, with its data under
 *   `${dataDir}/etcd` and loopback ports, and stop it when the store closes (managed);
 * - otherwise: keep the metadata in this process, and say so loudly (in-process).
 */
import path from 'node:path';
import { type EtcdServer, findEtcdBinary, launchEtcd } from './etcd-launcher.js';
import { type MetaLogger, stderrLogger } from './logger.js';
import {
  createEtcdMetadataStore,
  createInProcessMetadataStore,
  type EtcdMetadataStoreOptions,
  type MetadataStore,
  type MetadataStoreOptions,
} from './metadata-store.js';

/** Where the metadata lives. */
export const METADATA_MODES = ['external', 'managed', 'in-process'] as const;
export type MetadataMode = (typeof METADATA_MODES)[number];

export interface OpenMetadataOptions extends MetadataStoreOptions {
  /** Client URLs of an existing etcd cluster; absent or empty selects the embedded default. */
  readonly etcd?: readonly string[];
  /** The daemon's data dir; a managed etcd keeps its data in `${dataDir}/etcd`. */
  readonly dataDir: string;
  readonly auth?: EtcdMetadataStoreOptions['auth'];
  readonly tls?: EtcdMetadataStoreOptions['tls'];
  readonly callTimeoutMs?: number;
  /** PATH searched for the etcd binary; default `process.env.PATH`. */
  readonly path?: string;
  /**
   * Let a managed etcd take etcd's default ports (2379/2380) when they are free, so plain
   * `etcdctl` finds it; otherwise it gets ports picked by the OS. Default true.
   */
  readonly preferDefaultPorts?: boolean;
}

export interface OpenedMetadata {
  readonly store: MetadataStore;
  readonly mode: MetadataMode;
  /** Client URLs of the etcd in use; empty in-process. */
  readonly endpoints: readonly string[];
}

/** The store, plus stopping the managed etcd after the store has closed. */
function stoppingEtcdOnClose(store: MetadataStore, etcd: EtcdServer, logger: MetaLogger): MetadataStore {
  let closing: Promise<void> | null = null;
  return {
    kind: store.kind,
    prefix: store.prefix,
    keys: store.keys,
    ensureCluster: (spec) => store.ensureCluster(spec),
    register: (reg) => store.register(reg),
    publish: (state) => store.publish(state),
    putSchema: (p, json) => store.putSchema(p, json),
    setRetainedFloor: (epoch) => store.setRetainedFloor(epoch),
    flush: () => store.flush(),
    stats: () => store.stats(),
    getCluster: () => store.getCluster(),
    getLatestEpoch: (p) => store.getLatestEpoch(p),
    getBlob: (m, p, e) => store.getBlob(m, p, e),
    listBlobKeys: (m) => store.listBlobKeys(m),
    getMachine: (m) => store.getMachine(m),
    isWriterUp: (p) => store.isWriterUp(p),
    getSchema: (p) => store.getSchema(p),
    close(opts) {
      closing ??= (async () => {
        try {
          await store.close(opts);
        } finally {
          await etcd.stop();
          logger.info('stopped the managed etcd', { dataDir: etcd.dataDir });
        }
      })();
      return closing;
    },
  };
}

/** Open the metadata store the options call for; see the module comment. */
export async function openMetadata(opts: OpenMetadataOptions): Promise<OpenedMetadata> {
  const logger = opts.logger ?? stderrLogger;
  const storeOpts = { ...opts, logger };
  if (opts.etcd !== undefined && opts.etcd.length > 0) {
    const store = createEtcdMetadataStore({ ...storeOpts, endpoints: opts.etcd });
    logger.info('using etcd', { endpoints: opts.etcd, prefix: store.prefix });
    return { store, mode: 'external', endpoints: [...opts.etcd] };
  }
  const binary = findEtcdBinary(opts.path ?? process.env.PATH);
  if (binary === null) {
    logger.warn(
      'no etcd binary on PATH and no --etcd given: metadata is kept in-process, and etcdctl will not see it ' +
        '(install etcd, e.g. apt-get install etcd-server, or pass --etcd URL)',
    );
    return { store: createInProcessMetadataStore(storeOpts), mode: 'in-process', endpoints: [] };
  }
  const etcd = await launchEtcd({
    binary,
    dataDir: path.join(opts.dataDir, 'etcd'),
    preferDefaultPorts: opts.preferDefaultPorts ?? true,
    logger,
  });
  const endpoints = [...etcd.endpoints];
  const store = createEtcdMetadataStore({ ...storeOpts, endpoints });
  logger.info(
    `started a managed etcd; see it with: etcdctl --endpoints=${endpoints.join(',')} get --prefix ${store.prefix}`,
    {
      endpoints,
      dataDir: etcd.dataDir,
      pid: etcd.pid,
    },
  );
  return { store: stoppingEtcdOnClose(store, etcd, logger), mode: 'managed', endpoints };
}
