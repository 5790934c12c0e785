/**
 * A bad request's message names its problem: the id that is not an id, the property value of
 * no accepted kind, the content type that is not accepted, where the JSON breaks. (The
 * fuzzing in api-bad-input.test.ts checks that every bad request is a 4xx; this checks what it
 * says.) A real machine behind the app; nothing here may change its data.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, body, mp, startApi } from '../helpers/api-harness.js';

let h: ApiHarness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await startApi();
  app = h.app;
});
afterAll(async () => {
  await h?.close();
});

function post(url: string, payload: string | Buffer, contentType?: string) {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  return app.inject({ method: 'POST', url, payload, headers });
}

function refusal(res: LightMyRequestResponse): { code: string; message: string } {
  expect(res.statusCode, res.body).toBe(400);
  return body<{ error: { code: string; message: string } }>(res).error;
}

const batch = (op: Record<string, unknown>) => JSON.stringify({ ops: [op] });

describe('error messages name the problem', () => {
  it('an id that is neither a non-negative integer nor a string', async () => {
    const cases: [unknown, string][] = [
      [1.5, 'body/ops/0/id id 1.5 is not an integer'],
      [null, 'body/ops/0/id id must be a non-negative integer or a string, got null'],
      [[1], 'body/ops/0/id id must be a non-negative integer or a string, got object'],
    ];
    for (const [id, message] of cases) {
      const e = refusal(await post('/v1/batches', batch({ op: 'upsertVertex', id }), 'application/json'));
      expect(e).toMatchObject({ code: 'INVALID_REQUEST', message });
    }
    // Out of the safe range: one message, not one per check.
    const big = refusal(await post('/v1/batches', '{"edges":{"src":[1e300],"dst":[1]}}', 'application/json'));
    expect(big.message).toBe('body/edges/src/0 Too big: expected int to be <=9007199254740991');
  });

  it('an id column that is not a list of ids', async () => {
    const e = refusal(
      await post('/v1/batches', mp({ edges: { src: 'abc', dst: [1] } }), 'application/msgpack'),
    );
    expect(e.message).toBe(
      'body/edges/src expected an array of ids (in msgpack, also a Float64Array, Uint32Array or Int32Array)',
    );
  });

  it('a property value or column of no accepted kind', async () => {
    const value = refusal(
      await post(
        '/v1/batches',
        batch({ op: 'upsertVertex', id: 1, props: { v: [1, 'a'] } }),
        'application/json',
      ),
    );
    expect(value.message).toBe(
      'body/ops/0/props/v a property value is a number, a string, a boolean or an array of numbers (a vector)',
    );
    const column = refusal(
      await post(
        '/v1/batches',
        JSON.stringify({ edges: { src: [1], dst: [2], props: { w: 'heavy' } } }),
        'application/json',
      ),
    );
    expect(column.message).toBe(
      'body/edges/props/w a property column is an array of values (in msgpack, also a Float64Array or Float32Array)',
    );
  });

  it('a content type that is not JSON or msgpack, even when the bytes are JSON', async () => {
    const json = JSON.stringify({ ids: [1], direction: 'out' });
    for (const type of ['text/plain', 'application/xml']) {
      const e = refusal(await post('/v1/snapshots/latest/neighbors', json, type));
      expect(e.message).toBe(
        `Content-Type ${type} is not accepted: send application/json or application/msgpack`,
      );
    }
  });

  it('JSON that does not parse says where, and an empty or poisoned body says so', async () => {
    const broken = refusal(await post('/v1/batches', '{"ops": [}', 'application/json'));
    expect(broken.message).toMatch(/^the body is not valid JSON: .*(position 9|"\{"ops": \[}")/);
    const empty = refusal(await post('/v1/batches', '', 'application/json'));
    expect(empty.message).toBe('the body is empty; send a JSON object');
    // Raw text: in an object literal, __proto__ would set the prototype, not make a key.
    const poisonedText = '{"ops":[{"op":"upsertVertex","id":1,"props":{"__proto__":{"x":1}}}]}';
    const poisoned = refusal(await post('/v1/batches', poisonedText, 'application/json'));
    expect(poisoned.message).toBe('the body is not valid JSON: Object contains forbidden prototype property');
  });

  it('refused bodies changed nothing; JSON with a charset still parses', async () => {
    expect(h.machine.latestEpoch).toBe(0);
    const ok = await post(
      '/v1/batches',
      batch({ op: 'upsertEdge', src: 1, dst: 2 }),
      'application/json; charset=utf-8',
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect(body<{ epoch: number }>(ok).epoch).toBeGreaterThan(0);
  });
});
