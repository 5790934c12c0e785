/** `GET /metrics`: the app's Prometheus registry in the text exposition format. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendEncoded } from '../encoding.js';

export const metricsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { registry } = app.epochgraph.metrics;
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Prometheus metrics: epochs, seal durations, visibility latency, ingest, WAL bytes, request latency',
        response: { 200: z.string() },
      },
    },
    async (req, reply) => sendEncoded(req, reply, registry.contentType, await registry.metrics()),
  );
};
