/**
 * A real machine (worker threads, WAL in a temp dir) with the API app on top, for API tests,
 * plus small helpers to call it in JSON or msgpack and decode answers by their content type.
 * Workers load dist/: run `npm run build` first.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../api/app.js';
import type { ApiDeps } from '../../api/deps.js';
import { Machine, type MachineOptions } from '../../partitions/machine.js';
import { packMsgpack, unpackMsgpack } from '../../src/codec/msgpack.js';
import { tempDir } from './temp-dir.js';

/** Small store limits keep tests fast and light. */
export const TEST_STORE_LIMITS = {
  chunkWords: 1 << 18,
  maxChunks: 16,
  indexSegments: 4,
  poolSlots: 64,
  slotMaxBytes: 1 << 24,
};

export interface ApiHarness {
  machine: Machine;
  app: FastifyInstance;
  dataDir: string;
  /** Another app over the same machine (for other limits or readiness); closed with the harness. */
  extraApp(deps: Omit<ApiDeps, 'machine'>): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function startApi(
  opts: { machine?: Partial<MachineOptions>; api?: Omit<ApiDeps, 'machine'> } = {},
): Promise<ApiHarness> {
  const dir = await tempDir('epochgraph-api-');
  const machine = await Machine.open({
    dataDir: dir.path,
    partitions: 2,
    epochMs: 10,
    limits: TEST_STORE_LIMITS,
    ...opts.machine,
  });
  const apps: FastifyInstance[] = [];
  const make = async (deps: Omit<ApiDeps, 'machine'>) => {
    const app = await buildApp({ machine, ...deps });
    apps.push(app);
    await app.ready();
    return app;
  };
  const app = await make(opts.api ?? {});
  return {
    machine,
    app,
    dataDir: dir.path,
    extraApp: make,
    async close() {
      for (const a of apps) await a.close();
      await machine.close();
      await dir.remove();
    },
  };
}

export const MSGPACK_HEADERS = { 'content-type': 'application/msgpack', accept: 'application/msgpack' };

/** Encode a msgpack request body with the project's codec. */
export function mp(value: unknown): Buffer {
  const b = packMsgpack(value);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Decode an answer by its content type (msgpack or JSON). */
export function body<T = Record<string, unknown>>(res: LightMyRequestResponse): T {
  const type = String(res.headers['content-type'] ?? '');
  if (type.includes('msgpack')) return unpackMsgpack(res.rawPayload) as T;
  return JSON.parse(res.body) as T;
}

/** The error code of an error answer (JSON or msgpack). */
export function errorCode(res: LightMyRequestResponse): string {
  return body<{ error: { code: string } }>(res).error.code;
}

/** POST JSON. */
export function postJson(app: FastifyInstance, url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
}

/** POST msgpack, asking for msgpack. */
export function postMsgpack(app: FastifyInstance, url: string, payload: unknown) {
  return app.inject({ method: 'POST', url, payload: mp(payload), headers: MSGPACK_HEADERS });
}

/** GET, optionally asking for msgpack. */
export function get(app: FastifyInstance, url: string, msgpack = false) {
  return app.inject({ method: 'GET', url, headers: msgpack ? { accept: 'application/msgpack' } : {} });
}
