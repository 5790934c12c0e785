/**
 * The app factory: a Fastify instance with the API's plugins registered, not listening.
 * Tests call `app.inject()`; the daemon calls `listen()`. Shared dependencies are decorated
 * once (`app.epochgraph`); `onClose` releases what the app owns (its metrics subscription),
 * never the machine, which its owner closes after the app.
 */
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type onRequestHookHandler,
  type onResponseHookHandler,
} from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { EpochgraphError } from '../src/errors.js';
import type { ApiContext } from './context.js';
import { type ApiDeps, resolveLimits } from './deps.js';
import { registerMsgpackParser } from './encoding.js';
import { installErrorHandling, sendError } from './error-handler.js';
import { ApiMetrics } from './metrics.js';
import { OwnerReads } from './owner-reads.js';
import { DATA_ROUTES, DOCS, OPEN_ROUTES } from './routes/index.js';

/** Longest path parameter (a string id of 256 UTF-8 bytes, percent-encoded, fits). */
const MAX_PARAM_LENGTH = 2048;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = resolveLimits(deps.limits);
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
  registerMsgpackParser(app);
  installErrorHandling(app);

  const metrics = new ApiMetrics(deps.machine);
  const owners = new OwnerReads(deps.machine);
  const ready = deps.ready ?? (() => true);
  const ctx: ApiContext = Object.freeze({
    machine: deps.machine,
    limits,
    metrics,
    owners,
    ready,
    extraHealth: deps.extraHealth ?? (() => ({})),
    startedAtMs: Date.now(),
  });
  app.decorate('epochgraph', ctx);
  app.addHook('onClose', (_instance, done) => {
    metrics.close();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeRequest(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  await app.register(DOCS);
  for (const plugin of OPEN_ROUTES) await app.register(plugin);
  const requireReady: onRequestHookHandler = (_req, _reply, done) => {
    done(
      ready()
        ? undefined
        : new EpochgraphError('NOT_READY', 'the daemon is not ready (recovering or shutting down)'),
    );
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireReady);
    for (const plugin of DATA_ROUTES) await scope.register(plugin);
  });
  return app;
}
