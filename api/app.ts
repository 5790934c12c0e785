/**
 * The app factory: a Fastify instance with the API's plugins registered, not listening.
 * Tests call `app.inject()`; the daemon calls `listen()`. Shared dependencies are decorated
 * once (`app.epochgraph`); `onClose` releases what the app owns (the snapshots it holds open,
 * its seal-event subscriptions), never the machine, which its owner closes after the app.
 */
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type onResponseHookHandler,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { EpochgraphError } from '../src/errors.js';
import type { ApiContext } from './context.js';
import { type ApiDeps, resolveLimits } from './deps.js';
import { registerBodyParsers } from './encoding.js';
import { installErrorHandling, sendError } from './error-handler.js';
import { ApiMetrics } from './metrics.js';
import { type ApiRouteConfig, TIMED_BY_HOOK } from './observe.js';
import { OwnerReads } from './owner-reads.js';
import { DATA_ROUTES, DOCS, OPEN_ROUTES } from './routes/index.js';

/** Longest path parameter (a string id of 256 UTF-8 bytes, percent-encoded, fits). */
const MAX_PARAM_LENGTH = 2048;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = resolveLimits(deps.limits);
  const metrics = new ApiMetrics(deps.machine);
  const options: FastifyServerOptions = {
    bodyLimit: limits.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Keep answering in our error shape while closing (the daemon flips ready() first).
    return503OnClosing: false,
    // Router-level failures (a malformed percent-encoding in the URL) get the error shape too.
    frameworkErrors: (err, req, reply) => {
      sendError(req, reply, err);
    },
  };
  const app =
    deps.loggerInstance === undefined
      ? Fastify({ ...options, logger: deps.logger ?? false })
      : Fastify({ ...options, loggerInstance: deps.loggerInstance });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerBodyParsers(app);
  installErrorHandling(app);

  const owners = new OwnerReads(deps.machine);
  const ready = deps.ready ?? (() => true);
  const ctx: ApiContext = Object.freeze({
    machine: deps.machine,
    analytics: deps.analytics,
    limits,
    metrics,
    owners,
    ready,
    extraHealth: deps.extraHealth ?? (() => ({})),
    startedAtMs: Date.now(),
  });
  app.decorate('epochgraph', ctx);
  app.addHook('onClose', (_instance, done) => {
    owners.close();
    metrics.close();
    done();
  });
  // Request latency by route (see observe.ts): the route's URL is captured at registration
  // and handed to the answer through the reply (request.routeOptions builds an object on
  // every read). Streamed answers and other plugins' handlers are timed by an onResponse hook.
  app.decorateReply('epochgraphTimer', null);
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const handler = route.handler;
    const byHook =
      (route.config as ApiRouteConfig | undefined)?.streamed === true ||
      handler.constructor.name !== 'AsyncFunction';
    const timer = byHook ? TIMED_BY_HOOK : metrics.routeTimer(url);
    route.handler = function timed(this: FastifyInstance, req, reply) {
      reply.epochgraphTimer = timer;
      return handler.call(this, req, reply);
    };
    if (!byHook) return;
    const observe: onResponseHookHandler = (req, reply, done) => {
      metrics.observeRequest(req.method, url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    if (existing === undefined) route.onResponse = [observe];
    else route.onResponse = [...(Array.isArray(existing) ? existing : [existing]), observe];
    const config: ApiRouteConfig = { ...(route.config ?? {}), timedByHook: true };
    route.config = config as typeof route.config;
  });

  await app.register(DOCS);
  for (const plugin of OPEN_ROUTES) await app.register(plugin);
  // Data routes answer 503 NOT_READY until the daemon is ready. The check wraps each handler
  // (after validation) rather than adding an onRequest hook, which costs more per request.
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function whenReady(this: FastifyInstance, req, reply) {
        if (!ready())
          throw new EpochgraphError('NOT_READY', 'the daemon is not ready (recovering or shutting down)');
        return handler.call(this, req, reply);
      };
    });
    for (const plugin of DATA_ROUTES) await scope.register(plugin);
  });
  return app;
}
