/**
 * The daemon: the composition root that wires the machine (partition workers, epoch clock,
 * WAL, recovery), the metadata in etcd (GART keys, leases, pruning) and the HTTP API.
 *
 * Start order: metadata first (the cluster key must agree on P before anything is written),
 * then the HTTP listener (GET /v1/ready answers 503 NOT_READY until recovery is done), then
 * the machine (recovery), then registration and the first publication. Shutdown: data routes
 * answer 503, the HTTP server stops, the machine seals and fsyncs what was applied, the last
 * epoch is published, the lease is revoked.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type ApiAnalytics, type ApiMachine, buildApp } from '../api/index.js';
import { type MetaLogger, type OpenedMetadata, openMetadata } from '../meta/index.js';
import type {
  CheckpointReport,
  EpochInfo,
  Machine,
  MachineOptions,
  Pin,
  SealEvent,
  SubmitResult,
} from '../partitions/index.js';
import { Machine as MachineImpl } from '../partitions/index.js';
import { AnalyticsService } from './analytics/index.js';
import type { ServeConfig } from './config.js';
import { EpochgraphError } from './errors.js';
import type { Batch } from './model/ops.js';
import type { SchemaView } from './model/schema.js';
import type { GraphSnapshot, StoreDescriptor, StoreLimits } from './storage/index.js';

export interface DaemonLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface DaemonOptions {
  logger?: DaemonLogger;
  /** Request logs (pino); off by default in tests. */
  requestLogs?: boolean;
  /** Storage limits (tests use small buffers). */
  limits?: Partial<StoreLimits>;
  /** Extra machine options (checkpoint policy, queue bounds). */
  machine?: Partial<MachineOptions>;
  /** PATH used to look for the etcd binary of the embedded default. */
  path?: string;
}

const quiet: DaemonLogger = { info() {}, warn() {}, error() {} };

/** Listeners registered before the machine exists, subscribed to it once it does. */
class EarlyListeners<F> {
  private readonly fns = new Map<F, (() => unknown) | null>();

  constructor(private readonly subscribe: (m: Machine, fn: F) => () => unknown) {}

  add(target: Machine | null, fn: F): () => unknown {
    if (target !== null) return this.subscribe(target, fn);
    this.fns.set(fn, null);
    // Unsubscribing works before and after the machine is attached.
    return () => {
      this.fns.get(fn)?.();
      this.fns.delete(fn);
    };
  }

  attach(m: Machine): void {
    for (const fn of this.fns.keys()) this.fns.set(fn, this.subscribe(m, fn));
  }
}

/**
 * The machine as the HTTP app sees it before recovery has finished: data routes are not served
 * yet (ready() is false), and seal and checkpoint listeners registered early (the metrics) are
 * attached once it exists.
 */
class LateMachine implements ApiMachine {
  private target: Machine | null = null;
  private readonly sealListeners = new EarlyListeners<(e: SealEvent) => void>((m, fn) => m.onSeal(fn));
  private readonly checkpointListeners = new EarlyListeners<(p: number, r: CheckpointReport) => void>(
    (m, fn) => m.onCheckpoint(fn),
  );

  constructor(private readonly config: ServeConfig) {}

  attach(m: Machine): void {
    this.target = m;
    this.sealListeners.attach(m);
    this.checkpointListeners.attach(m);
  }

  private get m(): Machine {
    if (this.target === null) throw new EpochgraphError('NOT_READY', 'recovery is still running');
    return this.target;
  }

  get partitions(): number {
    return this.config.partitions;
  }
  get epochMs(): number {
    return this.config.epochMs;
  }
  get retainMs(): number {
    return this.config.retainMs;
  }
  get latestEpoch(): number {
    return this.target?.latestEpoch ?? 0;
  }
  get oldestEpoch(): number {
    return this.target?.oldestEpoch ?? 0;
  }
  get failed(): EpochgraphError | null {
    return this.target?.failed ?? null;
  }
  submit(batch: Batch): Promise<SubmitResult> {
    return this.m.submit(batch);
  }
  epochs(): readonly EpochInfo[] {
    return this.m.epochs();
  }
  epochInfo(e: number): EpochInfo {
    return this.m.epochInfo(e);
  }
  epochAsOf(timeMs: number): EpochInfo {
    return this.m.epochAsOf(timeMs);
  }
  snapshot(epoch?: number): GraphSnapshot {
    return this.m.snapshot(epoch);
  }
  descriptors(): readonly StoreDescriptor[] {
    return this.m.descriptors();
  }
  pin(epoch: number | undefined, ttlMs: number): Pin {
    return this.m.pin(epoch, ttlMs);
  }
  unpin(id: string): boolean {
    return this.m.unpin(id);
  }
  schemaView(): SchemaView {
    return this.m.schemaView();
  }
  onSeal(listener: (e: SealEvent) => void): () => unknown {
    return this.sealListeners.add(this.target, listener);
  }
  onCheckpoint(listener: (p: number, r: CheckpointReport) => void): () => unknown {
    return this.checkpointListeners.add(this.target, listener);
  }
}

/** The analytics pool as the app sees it before recovery (the route is not served yet). */
class LateAnalytics implements ApiAnalytics {
  target: AnalyticsService | null = null;
  private get a(): AnalyticsService {
    if (this.target === null) throw new EpochgraphError('NOT_READY', 'recovery is still running');
    return this.target;
  }
  run(name: string, params: unknown, epoch: number, opts: { signal?: AbortSignal }) {
    return this.a.run(name, params, epoch, opts);
  }
  runTyped(name: string, params: unknown, epoch: number, opts: { signal?: AbortSignal }) {
    return this.a.runTyped(name, params, epoch, opts);
  }
  get readWorkers(): number {
    return this.target?.readWorkers ?? 0;
  }
  neighborRows(...args: Parameters<AnalyticsService['neighborRows']>) {
    return this.a.neighborRows(...args);
  }
}

export class Daemon {
  private stopping: Promise<void> | null = null;
  private lastSchema = new Map<number, string>();
  private unsubscribe: () => void = () => undefined;

  private constructor(
    readonly config: ServeConfig,
    readonly machine: Machine,
    readonly meta: OpenedMetadata,
    readonly endpoint: string,
    readonly app: FastifyInstance,
    readonly analytics: AnalyticsService,
    private readonly log: DaemonLogger,
    private readonly readiness: { ready: boolean },
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
    let app: FastifyInstance | null = null;
    let analytics: AnalyticsService | null = null;
    const readiness = { ready: false };
    try {
      // The cluster key fixes P for everyone sharing the prefix: refuse a different P.
      await meta.store.ensureCluster({ partitions: config.partitions, epochMs: config.epochMs });
      const late = new LateMachine(config);
      const lateAnalytics = new LateAnalytics();
      const server = await buildApp({
        machine: late,
        analytics: lateAnalytics,
        logger: opts.requestLogs === true ? { level: config.logLevel } : false,
        limits: { bodyLimitBytes: config.bodyLimitBytes },
        ready: () => readiness.ready,
        extraHealth: () => ({ metadata: meta.mode, etcd: meta.store.stats().etcdUp }),
      });
      app = server;
      await server.listen({ host: config.host, port: config.port });
      const addr = server.server.address() as AddressInfo;
      const endpoint = `http://${hostForUrl(config.host)}:${addr.port}`;
      log.info(`listening on ${endpoint} (not ready until recovery is done)`);
      machine = await MachineImpl.open({
        ...opts.machine,
        dataDir: config.dataDir,
        partitions: config.partitions,
        backupDir: config.backupDir,
        epochMs: config.epochMs,
        retainMs: config.retainMs,
        checkpointWalBytes: config.checkpointWalBytes,
        limits: opts.limits,
        logger: log,
      });
      late.attach(machine);
      const m = machine;
      const pool = new AnalyticsService({
        descriptors: m.descriptors(),
        poolSize: config.analyticsWorkers,
        readWorkers: config.readWorkers,
        // Run metrics go to the app's registry, which /metrics serves.
        registry: server.epochgraph.metrics.registry,
        // Each run keeps its epoch pinned from admission to completion.
        pinEpoch: (e: number, ttlMs: number) => {
          const p = m.pin(e, ttlMs);
          return { epoch: p.epoch, release: () => m.unpin(p.id) };
        },
      });
      analytics = pool;
      lateAnalytics.target = pool;
      readiness.ready = true;
      const d = new Daemon(config, machine, meta, endpoint, server, pool, log, readiness);
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
      await app?.close().catch(() => undefined);
      // A start that failed after the pool was created (publishing, registering) stops its threads.
      await analytics?.close().catch(() => undefined);
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
      // Data routes answer 503 NOT_READY from now on; in-flight requests finish.
      this.readiness.ready = false;
      await this.app.close();
      await this.analytics.close();
      await this.machine.close();
      this.unsubscribe();
      this.publishLatest();
      await this.meta.store.close();
      this.log.info('stopped');
    })();
    return this.stopping;
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
