/**
 * api: the Fastify app that serves snapshot reads and writes over HTTP (DESIGN §7).
 *
 * Wiring, in the daemon: open the Machine, then
 * `const app = await buildApp({ machine, logger, limits, ready, extraHealth })`,
 * `await app.listen({ host, port })`; on shutdown flip `ready` to false, `await app.close()`,
 * then close the machine.
 */

/** Build the app (plugins registered, not listening). */
export { buildApp } from './app.js';
/** The app's shared dependencies, decorated as `app.epochgraph`. */
export type { ApiContext } from './context.js';
/** What buildApp needs: the machine, limits, logger, readiness and health hooks. */
export type { ApiAnalytics, ApiDeps, ApiLimits, ApiMachine } from './deps.js';
/** Default request limits (body size, ids per batch read, neighbours per page, subgraph caps). */
/** Merge limit overrides with the defaults, checked and frozen. */
export { DEFAULT_API_LIMITS, resolveLimits } from './deps.js';
/** The media types of msgpack bodies, both ways. */
export { MSGPACK_TYPES } from './encoding.js';
/** The wire form of every error: `{ error: { code, message, details? } }`. */
export type { ErrorBody } from './error-handler.js';
/** Seconds a 503 answer asks the client to wait (its Retry-After header). */
export { RETRY_AFTER_SECONDS } from './error-handler.js';
/** The app's Prometheus metrics (its own registry). */
export { ApiMetrics } from './metrics.js';
/** Route config the app reads (`streamed: true` times a route until its stream ends). */
export type { ApiRouteConfig } from './observe.js';
/** The route plugins: docs first, then open routes, then data routes (503 until ready). */
export { DATA_ROUTES, DOCS, OPEN_ROUTES } from './routes/index.js';
