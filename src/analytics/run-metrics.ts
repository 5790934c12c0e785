/**
 * What the analytics service reports about its runs: the per-algorithm counters and state of
 * `AnalyticsService.stats()`, and the Prometheus metrics it registers (their names are listed
 * on AnalyticsService).
 *
 * Separate from service.ts because it is observation only: the service decides admission,
 * pins, timeouts and outcomes, and calls into these to count them; nothing here changes what
 * a run does.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AlgorithmName } from './algorithm-params.js';

/** Counters of one algorithm (see `AnalyticsService.stats()`). */
export interface AlgorithmStats {
  /** Runs admitted. */
  started: number;
  /** Runs that returned a result. */
  finished: number;
  /** Admitted runs that failed (VERTEX_NOT_FOUND, EPOCH_GONE, INVALID_REQUEST from the data, ...). */
  failed: number;
  timedOut: number;
  cancelled: number;
  /** Requests refused before admission: the queue was full. */
  rejected: number;
  /** Requests refused before admission: bad parameters or epoch. */
  invalid: number;
  /** Total and largest duration of settled admitted runs, queueing included. */
  durationMsTotal: number;
  durationMsMax: number;
}

/** A snapshot of the service's state and counters. */
export interface AnalyticsStats {
  poolSize: number;
  maxQueued: number;
  /** Admitted runs not yet settled (running + queued). */
  active: number;
  /** Admitted runs waiting for a worker. */
  queued: number;
  /** Registry slots released after terminated workers. */
  releasedReaderSlots: number;
  /** Answer slots of the read pool kept for reuse (answer-slots.ts); those being sent are not. */
  answerSlotsKept: number;
  byAlgorithm: Record<AlgorithmName, AlgorithmStats>;
}

/** How an admitted run settled. */
export type Outcome = 'ok' | 'failed' | 'timeout' | 'cancelled';

/** The service's Prometheus counters and histogram (the gauges read the service on collect). */
export interface PromMetrics {
  started: Counter<'algorithm'>;
  finished: Counter<'algorithm' | 'outcome'>;
  refused: Counter<'algorithm' | 'reason'>;
  duration: Histogram<'algorithm' | 'outcome'>;
}

/** What the gauges read from the service when the registry is collected. */
export interface RunGauges {
  /** Admitted runs not yet settled. */
  active(): number;
  /** Runs waiting for a worker. */
  queued(): number;
}

export function emptyStats(): AlgorithmStats {
  return {
    started: 0,
    finished: 0,
    failed: 0,
    timedOut: 0,
    cancelled: 0,
    rejected: 0,
    invalid: 0,
    durationMsTotal: 0,
    durationMsMax: 0,
  };
}

/** Register the service's metrics in `registry`. */
export function registerRunMetrics(registry: Registry, gauges: RunGauges): PromMetrics {
  const registers = [registry];
  new Gauge({
    name: 'epochgraph_analytics_runs_active',
    help: 'Analytics runs admitted and not yet settled (running or queued)',
    registers,
    collect() {
      this.set(gauges.active());
    },
  });
  new Gauge({
    name: 'epochgraph_analytics_runs_queued',
    help: 'Analytics runs waiting for a worker',
    registers,
    collect() {
      this.set(gauges.queued());
    },
  });
  return {
    started: new Counter({
      name: 'epochgraph_analytics_runs_started_total',
      help: 'Analytics runs admitted',
      labelNames: ['algorithm'],
      registers,
    }),
    finished: new Counter({
      name: 'epochgraph_analytics_runs_finished_total',
      help: 'Analytics runs settled, by outcome (ok, failed, timeout, cancelled)',
      labelNames: ['algorithm', 'outcome'],
      registers,
    }),
    refused: new Counter({
      name: 'epochgraph_analytics_runs_refused_total',
      help: 'Analytics requests refused before admission (queue_full, invalid)',
      labelNames: ['algorithm', 'reason'],
      registers,
    }),
    duration: new Histogram({
      name: 'epochgraph_analytics_run_duration_seconds',
      help: 'Duration of admitted analytics runs, queueing included',
      labelNames: ['algorithm', 'outcome'],
      buckets: [0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300],
      registers,
    }),
  };
}
