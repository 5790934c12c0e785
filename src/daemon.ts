/**
 * The daemon: the composition root that wires the machine (partition workers, epoch clock,
 * WAL, recovery), the metadata in etcd (GART keys, leases, pruning) and the HTTP API.
 *
 * Start order: metadata first (the cluster key must agree on P before anything is written),
 * then the machine (recovery), then registration and the first publication. Shutdown: stop
 * the HTTP server, seal and fsync what was applied, publish the last epoch, deregister.
 */

import { type MetaLogger, type OpenedMetadata, openMetadata } from '../meta/index.js';
import type { Machine, MachineOptions, SealEvent } from '../partitions/index.js';
import { Machine as MachineImpl } from '../partitions/index.js';
import type { ServeConfig } from './config.js';
import type { StoreLimits } from './storage/index.js';

export interface DaemonLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DaemonOptions {
  logger?: DaemonLogger;
  /** Storage limits (tests use small buffers). */
  limits?: Partial<StoreLimits>;
  /** Extra machine options (checkpoint policy, queue bounds). */
  machine?: Partial<MachineOptions>;
  /** PATH used to look for the etcd binary of the embedded default. */
  path?: string;
}

const quiet: DaemonLogger = { info() {}, warn() {}, error() {} };

export class Daemon {
  private stopping: Promise<void> | null = null;
  private lastSchema = new Map<number, string>();
  private unsubscribe: () => void = () => undefined;

  private constructor(
    readonly config: ServeConfig,
    readonly machine: Machine,
    readonly meta: OpenedMetadata,
    readonly endpoint: string,
    private readonly log: DaemonLogger,
  ) {}

  /** Start a daemon from a validated configuration. */
  static async start(config: ServeConfig, opts: DaemonOptions = {}): Promise<Daemon> {
    const log = opts.logger ?? quiet;
    const metaLog: MetaLogger = {
      info: (m, f) => log.info(m, f),
      warn: (m, f) => log.warn(m, f),
      error: (m, f) => log.error(m, f),
    };
    const meta = await openMetadata({
      etcd: config.etcd,
      dataDir: config.dataDir,
      prefix: config.metaPrefix,
      leaseTtlSec: config.leaseTtlSec,
      logger: metaLog,
      path: opts.path,
      auth:
        config.etcdUsername !== undefined && config.etcdPassword !== undefined
          ? { username: config.etcdUsername, password: config.etcdPassword }
          : undefined,
      tls:
        config.etcdCaFile === undefined &&
        config.etcdCertFile === undefined &&
        config.etcdKeyFile === undefined
          ? undefined
          : { caFile: config.etcdCaFile, certFile: config.etcdCertFile, keyFile: config.etcdKeyFile },
    });
    let machine: Machine | null = null;
    try {
      // The cluster key fixes P for everyone sharing the prefix: refuse a different P.
      await meta.store.ensureCluster({ partitions: config.partitions, epochMs: config.epochMs });
      machine = await MachineImpl.open({
        ...opts.machine,
        dataDir: config.dataDir,
        partitions: config.partitions,
        backupDir: config.backupDir,
        epochMs: config.epochMs,
        retainMs: config.retainMs,
        limits: opts.limits,
        logger: log,
      });
      const endpoint = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
      const d = new Daemon(config, machine, meta, endpoint, log);
      d.unsubscribe = machine.onSeal((e) => d.onSeal(e));
      d.publishLatest();
      await meta.store.register({
        machine: config.machine,
        endpoint,
        partitions: Array.from({ length: config.partitions }, (_, p) => p),
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      return d;
    } catch (err) {
      await machine?.close().catch(() => undefined);
      await meta.store.close().catch(() => undefined);
      throw err;
    }
  }

  /** The endpoint announced in etcd (for a port chosen by the OS, call after listening). */
  private onSeal(e: SealEvent): void {
    const store = this.meta.store;
    store.publish({
      machine: this.config.machine,
      fnum: this.config.partitions,
      endpoint: this.endpoint,
      partitions: e.partitions.map((p, i) => ({
        partition: i,
        epoch: e.epoch,
        vertices: p.vertices,
        edges: p.edges,
        sealedAtMs: e.sealedAtMs,
      })),
    });
    store.setRetainedFloor(this.machine.oldestEpoch);
    this.publishSchemaIfChanged();
  }

  /** Publish the recovered state, so etcd shows the latest epoch right after a start. */
  private publishLatest(): void {
    const info = this.machine.epochInfo(this.machine.latestEpoch);
    this.meta.store.publish({
      machine: this.config.machine,
      fnum: this.config.partitions,
      endpoint: this.endpoint,
      partitions: info.partitions.map((p) => ({
        partition: p.partition,
        epoch: info.epoch,
        vertices: p.vertices,
        edges: p.edges,
        sealedAtMs: info.sealedAtMs,
      })),
    });
    this.meta.store.setRetainedFloor(this.machine.oldestEpoch);
    this.publishSchemaIfChanged();
  }

  private publishSchemaIfChanged(): void {
    const json = JSON.stringify(this.machine.schemaView());
    for (let p = 0; p < this.config.partitions; p++) {
      if (this.lastSchema.get(p) === json) continue;
      this.lastSchema.set(p, json);
      this.meta.store.putSchema(p, json);
    }
  }

  /** Seal and fsync what was applied, publish it, deregister, release everything. */
  close(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info('shutting down: sealing and syncing');
      await this.machine.close();
      this.unsubscribe();
      this.publishLatest();
      await this.meta.store.close();
      this.log.info('stopped');
    })();
    return this.stopping;
  }
}
