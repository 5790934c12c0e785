/**
 * OpenAPI at `/docs` (@fastify/swagger with the UI). The document is generated from the
 * routes' zod schemas. This plugin is not encapsulated (it must see every route registered
 * after it), so it is registered first, at the root.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { createJsonSchemaTransform } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

const zodTransform = createJsonSchemaTransform({
  skipList: [
    DOCS_PREFIX,
    `${DOCS_PREFIX}/`,
    `${DOCS_PREFIX}/json`,
    `${DOCS_PREFIX}/yaml`,
    `${DOCS_PREFIX}/*`,
  ],
  // Typed arrays (msgpack-only inputs) have no JSON Schema; they show as "any".
  zodToJsonConfig: { unrepresentable: 'any' },
});

/** Every body and answer is JSON or msgpack (the CSR export streams msgpack by default). */
const MEDIA_TYPES = ['application/json', 'application/msgpack'];

const transform: typeof zodTransform = (input) => {
  const out = zodTransform(input);
  const schema = out.schema as Record<string, unknown> | undefined;
  if (schema !== undefined && schema.hide !== true) {
    schema.consumes ??= MEDIA_TYPES;
    schema.produces ??= MEDIA_TYPES;
  }
  return out;
};

const docs: FastifyPluginAsync = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'epochgraph',
        description:
          'Multi-version snapshot graph store. Bodies are JSON or msgpack (Content-Type / Accept: application/msgpack); in msgpack, numeric columns are typed arrays. Errors: { error: { code, message, details? } }.',
        version: 'v1',
      },
    },
    transform,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
};
// Register at the caller's level (what fastify-plugin does), so swagger sees sibling plugins' routes.
Object.assign(docs, { [Symbol.for('skip-override')]: true });

export const docsRoutes = docs;
