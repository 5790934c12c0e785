/**
 * Picks the metadata store for the daemon (DESIGN.md §6, "Embedded default"):
 * - `--etcd URL,...` given: that etcd cluster (external);
 * - otherwise, an `etcd` binary on PATH: start one as a child process, with its data under
 *   `${dataDir}/etcd` and loopback ports, and stop it when the store closes (managed);
 * - otherwise: keep the metadata in this process, and say so loudly (in-process).
 */
import path from 'node:path';
import type { MetadataMode } from '../src/config.js';
import { type EtcdServer, findEtcdBinary, launchEtcd } from './etcd-launcher.js';
import { type MetaLogger, stderrLogger } from './logger.js';
import {
  createEtcdMetadataStore,
  createInProcessMetadataStore,
  type EtcdMetadataStoreOptions,
  type MetadataStore,
  type MetadataStoreOptions,
} from './metadata-store.js';

export { METADATA_MODES, type MetadataMode } from '../src/config.js';

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
  /** The child etcd in managed mode (pid, data dir), else null. The store's close() stops it. */
  readonly managedEtcd: EtcdServer | null;
}

/** First and longest delay between attempts to bring a crashed managed etcd back. */
const ETCD_RESTART_INITIAL_MS = 200;
const ETCD_RESTART_MAX_MS = 5000;

/**
 * Keeps a managed etcd running: if it crashes or is killed, start it again (same ports, same
 * data dir) with backoff. Meanwhile the publisher holds the newest state and catches up once
 * etcd answers, like with any outage.
 */
class EtcdKeeper {
  etcd: EtcdServer | null = null;
  closing = false;
  private restarting = false;

  constructor(private readonly logger: MetaLogger) {}

  onUnexpectedExit(reason: string): void {
    if (this.closing || this.restarting) return;
    this.logger.error('the managed etcd exited; starting it again', { reason });
    void this.restart();
  }

  private async restart(): Promise<void> {
    this.restarting = true;
    let delay = ETCD_RESTART_INITIAL_MS;
    try {
      while (!this.closing && this.etcd !== null && !this.etcd.running) {
        try {
          await this.etcd.start();
          this.logger.info('the managed etcd is back', { endpoints: this.etcd.endpoints });
        } catch (err) {
          this.logger.error('could not restart the managed etcd; retrying', {
            error: err instanceof Error ? err.message : String(err),
            retryInMs: delay,
          });
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, ETCD_RESTART_MAX_MS);
        }
      }
    } finally {
      this.restarting = false;
    }
  }
}

/** The store, plus stopping the managed etcd after the store has closed. */
function stoppingEtcdOnClose(
  store: MetadataStore,
  etcd: EtcdServer,
  keeper: EtcdKeeper,
  logger: MetaLogger,
): MetadataStore {
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
        keeper.closing = true;
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
    return { store, mode: 'external', endpoints: [...opts.etcd], managedEtcd: null };
  }
  const binary = findEtcdBinary(opts.path ?? process.env.PATH);
  if (binary === null) {
    logger.warn(
      'no etcd binary on PATH and no --etcd given: metadata is kept in-process, and etcdctl will not see it ' +
        '(install etcd, e.g. apt-get install etcd-server, or pass --etcd URL)',
    );
    return {
      store: createInProcessMetadataStore(storeOpts),
      mode: 'in-process',
      endpoints: [],
      managedEtcd: null,
    };
  }
  const keeper = new EtcdKeeper(logger);
  const etcd = await launchEtcd({
    binary,
    dataDir: path.join(opts.dataDir, 'etcd'),
    preferDefaultPorts: opts.preferDefaultPorts ?? true,
    logger,
    onUnexpectedExit: (reason) => keeper.onUnexpectedExit(reason),
  });
  keeper.etcd = etcd;
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
  return {
    store: stoppingEtcdOnClose(store, etcd, keeper, logger),
    mode: 'managed',
    endpoints,
    managedEtcd: etcd,
  };
}
