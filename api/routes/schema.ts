/** `GET /v1/schema`: labels, properties and their types, as the partitions published them. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type LabelSchema, PROPERTY_TYPES, type SchemaView } from '../../src/model/schema.js';
import { sendBody } from '../encoding.js';

const labelSchema = z.object({
  name: z.string(),
  properties: z.array(
    z.object({ name: z.string(), type: z.enum(PROPERTY_TYPES), length: z.number().optional() }),
  ),
});

/** The public view of a label (the published schema also carries storage table numbers). */
function publicLabel(l: LabelSchema) {
  return {
    name: l.name,
    properties: l.properties.map((p) =>
      p.length === undefined
        ? { name: p.name, type: p.type }
        : { name: p.name, type: p.type, length: p.length },
    ),
  };
}

export const schemaRoutes: FastifyPluginAsyncZod = async (app) => {
  const { machine } = app.epochgraph;
  app.get(
    '/v1/schema',
    {
      schema: {
        tags: ['schema'],
        summary: 'Vertex and edge labels with their typed properties (at the latest epoch)',
        response: {
          200: z.object({
            epoch: z.number(),
            vertexLabels: z.array(labelSchema),
            edgeLabels: z.array(labelSchema),
          }),
        },
      },
    },
    async (req, reply) => {
      // Opening a snapshot refreshes each partition reader, so schemaView sees the schema as
      // published at the latest epoch (the readers cache it between opens).
      const snap = machine.snapshot();
      const epoch = snap.epoch;
      let view: SchemaView;
      try {
        view = machine.schemaView();
      } finally {
        snap.close();
      }
      reply.header('x-epoch', String(epoch));
      return sendBody(req, reply, {
        epoch,
        vertexLabels: view.vertexLabels.map(publicLabel),
        edgeLabels: view.edgeLabels.map(publicLabel),
      });
    },
  );
};
