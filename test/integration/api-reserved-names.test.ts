/**
 * Names that are also properties of every JavaScript object (`constructor`, `toString`,
 * `hasOwnProperty`, `valueOf`) used as vertex labels, edge labels and property names, and
 * `__proto__` as a vertex label (as a JSON key the body parser refuses it): each is stored as
 * data and read back as written, through the real HTTP routes, and none of them changes how
 * other labels or vertices read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, body, get, postJson, startApi } from '../helpers/api-harness.js';

let h: ApiHarness;

beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

describe('labels and property names shared with Object.prototype', () => {
  it('are stored and read back as data', async () => {
    const app = h.app;
    const w = await postJson(app, '/v1/batches', {
      ops: [
        { op: 'upsertVertex', id: 1, label: 'constructor', props: { toString: 'a', valueOf: 2 } },
        { op: 'upsertVertex', id: 2, label: 'toString', props: { hasOwnProperty: true } },
        { op: 'upsertVertex', id: 3, label: '__proto__', props: { constructor: 1.5 } },
        { op: 'upsertVertex', id: 4, label: 'person', props: { name: 'ann' } },
        { op: 'upsertEdge', src: 1, dst: 2, label: 'hasOwnProperty', props: { constructor: 7 } },
        { op: 'upsertEdge', src: 1, dst: 3, label: 'valueOf' },
      ],
    });
    expect(w.statusCode).toBe(200);

    const v1 = body(await get(app, '/v1/snapshots/latest/vertices/1'));
    expect(v1.label).toBe('constructor');
    expect(v1.props).toEqual({ toString: 'a', valueOf: 2 });
    const v2 = body(await get(app, '/v1/snapshots/latest/vertices/2'));
    expect([v2.label, v2.props]).toEqual(['toString', { hasOwnProperty: true }]);
    const v3 = body(await get(app, '/v1/snapshots/latest/vertices/3'));
    expect([v3.label, v3.props]).toEqual(['__proto__', { constructor: 1.5 }]);
    const v4 = body(await get(app, '/v1/snapshots/latest/vertices/4'));
    expect([v4.label, v4.props]).toEqual(['person', { name: 'ann' }]);

    const byLabel = body(
      await get(app, '/v1/snapshots/latest/vertices/1/neighbors?label=hasOwnProperty&props=constructor'),
    );
    expect(byLabel.neighbors).toEqual([2]);
    expect(byLabel.props).toEqual([{ constructor: 7 }]);
    expect(body(await get(app, '/v1/snapshots/latest/vertices/1/neighbors?label=valueOf')).neighbors).toEqual(
      [3],
    );
    // A label never written reads as no edges, even when it names an Object.prototype member.
    expect(
      body(await get(app, '/v1/snapshots/latest/vertices/1/neighbors?label=isPrototypeOf')).neighbors,
    ).toEqual([]);

    const schema = JSON.stringify(body(await get(app, '/v1/schema')));
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])
      expect(schema).toContain(`"${name}"`);
  });
});
