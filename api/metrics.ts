/**
 * Prometheus metrics of one app, in its own registry (several apps in one process do not
 * collide): epochs, seal durations and visibility latency (from the machine's seal events),
 * WAL bytes, checkpoints (from its checkpoint reports), ingest counts, batch reads and CSR
 * exports, and request latency by route.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { CheckpointReport, SealEvent } from '../partitions/machine.js';
import type { AppliedCounts } from '../src/model/ops.js';
import type { ApiMachine } from './deps.js';

const SEAL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.25, 0.5, 1, 5];
/** Checkpoints take from milliseconds (a small store) to minutes (tens of GB). */
const CHECKPOINT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10];

/** One label set of the request-latency histogram. */
interface LatencySeries {
  labels: { method: string; route: string; status: string };
  /** Counts per bucket (not cumulative), the last one for +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** The latency series of one route, by method and status (numeric keys: no string building). */
export class RouteTimer {
  private readonly series = new Map<number, LatencySeries>();

  constructor(readonly route: string) {}

  observe(method: string, status: number, seconds: number): void {
    const key = status * 16 + methodCode(method);
    let s = this.series.get(key);
    if (s === undefined) {
      s = {
        labels: { method, route: this.route, status: String(status) },
        counts: new Float64Array(REQUEST_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, s);
    }
    let b = 0;
    while (b < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[b]) b++;
    s.counts[b]++;
    s.sum += seconds;
    s.count++;
  }

  values(): Iterable<LatencySeries> {
    return this.series.values();
  }
}

const METHODS = ['GET', 'POST', 'DELETE', 'HEAD', 'PUT', 'PATCH', 'OPTIONS'];
function methodCode(method: string): number {
  const i = METHODS.indexOf(method);
  return i < 0 ? 15 : i;
}

/**
 * The request-latency histogram, kept in plain arrays and exposed to the registry in
 * prom-client's metric format. prom-client's own Histogram hashes the label object on every
 * observation, which cost several percent of a small request's time; here a route's timer is
 * found once (at route registration) and an observation is a numeric map lookup.
 */
class RequestLatency {
  readonly name = 'epochgraph_http_request_duration_seconds';
  readonly help = 'HTTP request latency by route';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly timers = new Map<string, RouteTimer>();

  timer(route: string): RouteTimer {
    let t = this.timers.get(route);
    if (t === undefined) this.timers.set(route, (t = new RouteTimer(route)));
    return t;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const t of this.timers.values()) {
      for (const s of t.values()) {
        let cumulative = 0;
        for (let b = 0; b <= REQUEST_BUCKETS.length; b++) {
          cumulative += s.counts[b];
          const le = b < REQUEST_BUCKETS.length ? REQUEST_BUCKETS[b] : '+Inf';
          values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
        }
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.timers.clear();
  }
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds = new RequestLatency();
  private readonly ingestEdges: Counter<'op'>;
  private readonly ingestVertices: Counter<'op'>;
  private readonly ingestBatches: Counter;
  private readonly batchReads: Counter<'thread'>;
  private readonly csrExports: Counter<'rows'>;
  private readonly unsubscribe: () => unknown;

  constructor(machine: ApiMachine, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'epochgraph_latest_epoch',
      help: 'The newest visible (sealed and durable) epoch',
      registers,
      collect() {
        this.set(machine.latestEpoch);
      },
    });
    new Gauge({
      name: 'epochgraph_oldest_epoch',
      help: 'The oldest retained (readable) epoch',
      registers,
      collect() {
        this.set(machine.oldestEpoch);
      },
    });
    new Gauge({
      name: 'epochgraph_writable',
      help: '1 while the machine accepts writes, 0 after a failure stopped them',
      registers,
      collect() {
        this.set(machine.failed === null ? 1 : 0);
      },
    });
    const vertices = new Gauge({
      name: 'epochgraph_vertices',
      help: 'Vertices at the latest epoch, by partition',
      labelNames: ['partition'],
      registers,
    });
    const edges = new Gauge({
      name: 'epochgraph_edges',
      help: 'Edges at the latest epoch, by partition (an edge whose endpoints live on two partitions counts on both)',
      labelNames: ['partition'],
      registers,
    });
    const seal = new Histogram({
      name: 'epochgraph_seal_duration_seconds',
      help: 'Time a partition took to seal an epoch (in memory, before the WAL fsync)',
      labelNames: ['partition'],
      buckets: SEAL_BUCKETS,
      registers,
    });
    const durable = new Histogram({
      name: 'epochgraph_wal_sync_seconds',
      help: 'Time of a partition WAL group write and fsync per sealed epoch',
      labelNames: ['partition'],
      buckets: SEAL_BUCKETS,
      registers,
    });
    const visibility = new Histogram({
      name: 'epochgraph_visibility_latency_seconds',
      help: 'From the epoch tick to the epoch being durable and visible on every partition',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const walBytes = new Counter({
      name: 'epochgraph_wal_bytes_total',
      help: 'Bytes appended to the partition WALs',
      labelNames: ['partition'],
      registers,
    });
    const sealed = new Counter({ name: 'epochgraph_epochs_sealed_total', help: 'Epochs sealed', registers });
    const backupFailures = new Counter({
      name: 'epochgraph_backup_failures_total',
      help: 'Seals whose backup copy failed (their batches were not acknowledged)',
      registers,
    });
    this.ingestEdges = new Counter({
      name: 'epochgraph_ingest_edges_total',
      help: 'Edges upserted or deleted by acknowledged batches',
      labelNames: ['op'],
      registers,
    });
    this.ingestVertices = new Counter({
      name: 'epochgraph_ingest_vertices_total',
      help: 'Vertices upserted or deleted by acknowledged batches',
      labelNames: ['op'],
      registers,
    });
    this.ingestBatches = new Counter({
      name: 'epochgraph_ingest_batches_total',
      help: 'Acknowledged batches',
      registers,
    });
    this.batchReads = new Counter({
      name: 'epochgraph_batch_neighbor_reads_total',
      help: 'Batch-neighbour reads answered, by the thread that read (pool: the read pool; main: the main thread)',
      labelNames: ['thread'],
      registers,
    });
    this.csrExports = new Counter({
      name: 'epochgraph_csr_exports_total',
      help: 'CSR exports begun, by whether they counted their rows (counted) or found them kept from an earlier export of the same snapshot (kept)',
      labelNames: ['rows'],
      registers,
    });
    const checkpoints = new Counter({
      name: 'epochgraph_checkpoints_total',
      help: 'Checkpoints that ended, by partition and result (ok, failed; a failure is logged with its cause)',
      labelNames: ['partition', 'result'],
      registers,
    });
    const checkpointSeconds = new Histogram({
      name: 'epochgraph_checkpoint_duration_seconds',
      help: 'Wall time of a committed checkpoint (encoding in time slices, writes, fsyncs, rename)',
      labelNames: ['partition'],
      buckets: CHECKPOINT_BUCKETS,
      registers,
    });
    const checkpointEncode = new Histogram({
      name: 'epochgraph_checkpoint_encode_seconds',
      help: "A committed checkpoint's encoding time on its partition worker (taken from writes and reads of that partition)",
      labelNames: ['partition'],
      buckets: CHECKPOINT_BUCKETS,
      registers,
    });
    const checkpointBytes = new Gauge({
      name: 'epochgraph_checkpoint_bytes',
      help: "The newest checkpoint's body size, by partition",
      labelNames: ['partition'],
      registers,
    });
    const checkpointEpoch = new Gauge({
      name: 'epochgraph_checkpoint_epoch',
      help: 'The epoch of the newest checkpoint written since start, by partition (recovery replays the WAL after it)',
      labelNames: ['partition'],
      registers,
    });
    this.registry.registerMetric(this.requestSeconds as unknown as Metric);
    if (opts.processMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'epochgraph_' });

    const stopCheckpoints = machine.onCheckpoint((p: number, r: CheckpointReport) => {
      const partition = String(p);
      checkpoints.inc({ partition, result: r.ok ? 'ok' : 'failed' });
      if (!r.ok) return;
      checkpointSeconds.observe({ partition }, r.ms / 1000);
      checkpointEncode.observe({ partition }, r.encodeMs / 1000);
      checkpointBytes.set({ partition }, r.bytes);
      checkpointEpoch.set({ partition }, r.epoch);
    });
    const stopSeals = machine.onSeal((e: SealEvent) => {
      sealed.inc();
      visibility.observe(e.latencyMs / 1000);
      if (e.backupFailed) backupFailures.inc();
      e.partitions.forEach((p, i) => {
        const partition = String(i);
        seal.observe({ partition }, p.sealMs / 1000);
        if (p.walBytes > 0) {
          walBytes.inc({ partition }, p.walBytes);
          durable.observe({ partition }, p.durableMs / 1000);
        }
        vertices.set({ partition }, p.vertices);
        edges.set({ partition }, p.edges);
      });
    });
    this.unsubscribe = () => {
      stopSeals();
      stopCheckpoints();
    };
  }

  /** The latency timer of a route (find it once, observe many times). */
  routeTimer(route: string): RouteTimer {
    return this.requestSeconds.timer(route);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestSeconds.timer(route).observe(method, status, seconds);
  }

  countIngest(applied: AppliedCounts): void {
    this.ingestBatches.inc();
    if (applied.upsertedEdges > 0) this.ingestEdges.inc({ op: 'upsert' }, applied.upsertedEdges);
    if (applied.deletedEdges > 0) this.ingestEdges.inc({ op: 'delete' }, applied.deletedEdges);
    if (applied.upsertedVertices > 0) this.ingestVertices.inc({ op: 'upsert' }, applied.upsertedVertices);
    if (applied.deletedVertices > 0) this.ingestVertices.inc({ op: 'delete' }, applied.deletedVertices);
  }

  /** A batch-neighbour read answered, in the read pool or on the main thread. */
  countBatchRead(inPool: boolean): void {
    this.batchReads.inc({ thread: inPool ? 'pool' : 'main' });
  }

  /** A CSR export begun: whether it counted its rows or found them kept (csr-plan.ts). */
  countCsrExport(counted: boolean): void {
    this.csrExports.inc({ rows: counted ? 'counted' : 'kept' });
  }

  /** Stop listening to the machine and drop the registry. */
  close(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}
