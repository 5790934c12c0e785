/**
 * The app's shared dependencies, decorated once on the root instance as `app.epochgraph`, so
 * every route plugin reads the same machine, limits and metrics.
 */
import type { ApiAnalytics, ApiLimits, ApiMachine } from './deps.js';
import type { ApiMetrics } from './metrics.js';
import type { OwnerReads } from './owner-reads.js';

export interface ApiContext {
  readonly machine: ApiMachine;
  /** The analytics pool (absent: the algorithms route answers 503). */
  readonly analytics: ApiAnalytics | undefined;
  readonly limits: ApiLimits;
  readonly metrics: ApiMetrics;
  /** Readers of single partitions, for single-vertex reads. */
  readonly owners: OwnerReads;
  /** Whether data routes are served (see ApiDeps.ready). */
  readonly ready: () => boolean;
  readonly extraHealth: () => Record<string, unknown>;
  /** When the app was built (ms since the epoch). */
  readonly startedAtMs: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    epochgraph: ApiContext;
  }
}
