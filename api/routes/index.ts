/**
 * The API's route plugins, in one place. buildApp registers DOCS first (swagger must see
 * every route), then OPEN_ROUTES, then DATA_ROUTES inside a scope that answers 503 NOT_READY
 * until the daemon is ready. New resources (the algorithms routes) are appended to DATA_ROUTES.
 *
 * A route plugin: zod schemas for params, query and body (they also make the OpenAPI
 * document); an async handler that throws EpochgraphError for errors and answers with
 * sendBody (content negotiation, and the request's latency is taken there); snapshot reads
 * resolve `:epoch` / `?asOf=` with resolveEpoch or openSnapshot, close what they open, set
 * X-Epoch, and yield (setImmediate) in long loops. A streamed answer sets
 * `config: { streamed: true }`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { algorithmRoutes } from './algorithms.js';
import { batchRoutes } from './batches.js';
import { csrExportRoutes } from './csr.js';
import { docsRoutes } from './docs.js';
import { epochRoutes } from './epochs.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { pinRoutes } from './pins.js';
import { schemaRoutes } from './schema.js';
import { snapshotRoutes } from './snapshots.js';

/** OpenAPI document and UI (`/docs`). */
export const DOCS: FastifyPluginAsync = docsRoutes;

/** Served whether or not the daemon is ready. */
export const OPEN_ROUTES: readonly FastifyPluginAsync[] = [healthRoutes, metricsRoutes];

/** Served only while the daemon is ready (else 503 NOT_READY with Retry-After). */
export const DATA_ROUTES: readonly FastifyPluginAsync[] = [
  epochRoutes,
  pinRoutes,
  batchRoutes,
  snapshotRoutes,
  csrExportRoutes,
  schemaRoutes,
  algorithmRoutes,
];
