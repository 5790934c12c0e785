/**
 * Request latency by route, observed where an answer is sent. Route handlers send their
 * answer (sendBody) before they return, and sending writes to the socket synchronously, so
 * the time taken there is the request's latency. This costs a map lookup per request; an
 * onResponse hook or an async wrapper around each handler cost about a microsecond more,
 * several percent of a small read. Streamed answers (and handlers of other plugins) are timed
 * by an onResponse hook instead, when the stream ends.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteTimer } from './metrics.js';

/** `reply.epochgraphTimer` of routes an onResponse hook times. */
export const TIMED_BY_HOOK = 'hook';

/** Route config the app reads. */
export interface ApiRouteConfig {
  /** The answer is a stream: time it until the stream ends. */
  streamed?: boolean;
  /** Set by the app: this route's requests are timed by an onResponse hook. */
  timedByHook?: boolean;
}

declare module 'fastify' {
  interface FastifyReply {
    /** The timer of the route handling this request, set as its handler starts (null before). */
    epochgraphTimer: RouteTimer | typeof TIMED_BY_HOOK | null;
  }
}

/** Record the latency of an answer being sent now (once per request). */
export function observeAnswer(req: FastifyRequest, reply: FastifyReply): void {
  const timer = reply.epochgraphTimer;
  if (timer === TIMED_BY_HOOK) return;
  // (undefined on replies fastify builds before routing, for framework errors)
  if (timer !== null && timer !== undefined) {
    timer.observe(req.method, reply.statusCode, reply.elapsedTime / 1000);
    return;
  }
  // The handler never ran (a validation error, an unknown route): find the route the slow way.
  let route = 'unmatched';
  try {
    if ((req.routeOptions.config as ApiRouteConfig | undefined)?.timedByHook === true) return;
    route = req.routeOptions.url ?? route;
  } catch {
    // A framework error before routing.
  }
  req.server.epochgraph?.metrics.observeRequest(
    req.method,
    route,
    reply.statusCode,
    reply.elapsedTime / 1000,
  );
}
