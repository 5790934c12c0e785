/**
 * `POST /v1/batches`: a batch of ops (`{ ops: [...] }`) or the columnar bulk form
 * (`{ edges: { src, dst, label?, props? } }`, typed arrays in msgpack), answered with
 * `{ epoch, applied }` once the epoch that holds it is sealed, durable and visible. The body
 * is checked by zod (shape) and then by decodeBatch (ids, column lengths and types, naming the
 * op), and the machine checks it against the schema whole: nothing is applied unless all is.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  batchSize,
  decodeBatch,
  emptyCounts,
  MAX_EDGES_PER_BATCH,
  MAX_OPS_PER_BATCH,
} from '../../src/model/ops.js';
import { sendBody } from '../encoding.js';
import { errorBody, externalId, idList, label, unionMessage } from '../schemas.js';

const vector = z.union([z.array(z.number()), z.instanceof(Float32Array), z.instanceof(Float64Array)]);
const propValue = z.union([z.number(), z.string(), z.boolean(), vector], {
  error: unionMessage('a property value is a number, a string, a boolean or an array of numbers (a vector)'),
});
const props = z.record(z.string(), propValue);

const op = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('upsertVertex'),
    id: externalId,
    label: label.optional(),
    props: props.optional(),
  }),
  z.strictObject({ op: z.literal('deleteVertex'), id: externalId }),
  z.strictObject({
    op: z.literal('upsertEdge'),
    src: externalId,
    dst: externalId,
    label: label.optional(),
    props: props.optional(),
  }),
  z.strictObject({ op: z.literal('deleteEdge'), src: externalId, dst: externalId, label: label.optional() }),
]);

const propColumn = z.union(
  [
    z.array(propValue),
    z.instanceof(Float64Array).meta({ description: 'msgpack only' }),
    z.instanceof(Float32Array).meta({ description: 'msgpack only' }),
  ],
  {
    error: unionMessage(
      'a property column is an array of values (in msgpack, also a Float64Array or Float32Array)',
    ),
  },
);

const batchBody = z
  .strictObject({
    ops: z.array(op).max(MAX_OPS_PER_BATCH).optional(),
    edges: z
      .strictObject({
        src: idList(MAX_EDGES_PER_BATCH),
        dst: idList(MAX_EDGES_PER_BATCH),
        label: label.optional(),
        props: z.record(z.string(), propColumn).optional(),
      })
      .optional()
      .describe('the columnar bulk form: many edges of one label; use msgpack typed arrays for speed'),
  })
  .describe('a batch: ops, or columnar edges, or both; validated whole, applied atomically in one epoch');

const appliedBody = z.object({
  upsertedVertices: z.number(),
  deletedVertices: z.number(),
  upsertedEdges: z.number(),
  deletedEdges: z.number(),
});

export const batchRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine, metrics } = app.epochgraph;

  app.post(
    '/v1/batches',
    {
      schema: {
        tags: ['writes'],
        summary: 'Apply a batch atomically; answers once it is durable and visible, with its epoch',
        body: batchBody,
        response: {
          200: z.object({ epoch: z.number(), applied: appliedBody }),
          400: errorBody,
          409: errorBody,
          413: errorBody,
          503: errorBody,
        },
      },
    },
    async (req, reply) => {
      const batch = decodeBatch(req.body);
      if (batchSize(batch) === 0) {
        // Nothing to apply: no epoch is sealed for it; the latest epoch already holds its effect.
        const epoch = machine.latestEpoch;
        reply.header('x-epoch', String(epoch));
        return sendBody(req, reply, { epoch, applied: emptyCounts() });
      }
      const { epoch, applied } = await machine.submit(batch);
      metrics.countIngest(applied);
      reply.header('x-epoch', String(epoch));
      return sendBody(req, reply, { epoch, applied });
    },
  );
};
