/**
 * The read commands as real processes against a real daemon holding the Graphalytics
 * example: `epochs`, `get`, `neighbors` (directions, limits, JSON, old epochs by number and by
 * time), `run` (PageRank and BFS against the Graphalytics expected outputs), string ids, and
 * the server's errors as exit 1 with the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochgraphClient } from '../../src/client/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/cli-daemon.js';
import { runCli } from '../helpers/cli-process.js';
import { fixture, readExpected } from '../helpers/graphalytics-files.js';

const EXAMPLE = fixture('example', 'example-directed');

let d: TestDaemon;
let client: EpochgraphClient;
let loaded: number;
let later: number;
let sealedAt: string;

const cli = (...args: string[]) => runCli([...args, '--server', d.server]);

async function expectedValues(file: string): Promise<Map<number, number>> {
  return new Map([...(await readExpected(file))].map(([v, x]) => [v, Number(x)]));
}

/** Graphalytics writes an unreachable BFS vertex as the largest int64. */
const UNREACHABLE = '9223372036854775807';

beforeAll(async () => {
  d = await startTestDaemon();
  client = new EpochgraphClient({ server: d.server });
  const r = await cli('load', `${EXAMPLE}.v`, `${EXAMPLE}.e`, '--json');
  expect(r.code).toBe(0);
  loaded = (JSON.parse(r.stdout) as { epoch: number }).epoch;
  sealedAt = (await client.epoch({ epoch: loaded })).sealedAt;
  await new Promise((res) => setTimeout(res, 20));
  later = (
    await client.submitBatch({
      ops: [
        { op: 'upsertEdge', src: 1, dst: 7 },
        { op: 'upsertVertex', id: '0042' },
      ],
    })
  ).epoch;
});
afterAll(async () => {
  await d?.close();
});

describe('read commands', () => {
  it('epochs prints the latest epoch and a partition table', async () => {
    const r = await cli('epochs');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^latest epoch  ${later}  \\(sealed `));
    expect(r.stdout).toMatch(/partition {2}epoch {2}vertices {2}edges\n\s+0\s+\d+\s+\d+\s+\d+\n\s+1\s+\d+/);
    const json = JSON.parse((await cli('epochs', '--json')).stdout) as {
      latest: number;
      partitions: unknown[];
    };
    expect(json.latest).toBe(later);
    expect(json.partitions).toHaveLength(2);
  });

  it('get prints the vertex as JSON, at the latest or an older epoch', async () => {
    const r = await cli('get', '3');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      id: 3,
      label: 'vertex',
      outDegree: 4,
      inDegree: 3,
      epoch: later,
    });
    const old = JSON.parse((await cli('get', '1', '--epoch', String(loaded))).stdout) as {
      outDegree: number;
    };
    expect(old.outDegree).toBe(2);
    const now = JSON.parse((await cli('get', '1')).stdout) as { outDegree: number };
    expect(now.outDegree).toBe(3);
  });

  it('neighbors prints ids one per line, by direction, limited, or as JSON', async () => {
    expect((await cli('neighbors', '3')).stdout).toBe('1\n5\n8\n10\n');
    expect(
      (await cli('neighbors', '3', '--direction', 'in')).stdout.split('\n').filter(Boolean).sort(),
    ).toEqual(['1', '5', '6']);
    const both = (await cli('neighbors', '3', '--direction', 'both')).stdout.trim().split('\n');
    expect(both).toHaveLength(7);
    expect(both.filter((l) => l.endsWith('\tout'))).toHaveLength(4);
    expect(both.filter((l) => l.endsWith('\tin'))).toHaveLength(3);
    expect((await cli('neighbors', '3', '--limit', '2')).stdout).toBe('1\n5\n');
    const json = JSON.parse((await cli('neighbors', '3', '--json')).stdout);
    expect(json).toEqual({ epoch: later, id: 3, neighbors: [1, 5, 8, 10] });
  });

  it('neighbors reads old epochs by number and by time', async () => {
    expect((await cli('neighbors', '1', '--epoch', String(loaded))).stdout).toBe('3\n5\n');
    expect((await cli('neighbors', '1')).stdout).toBe('3\n5\n7\n');
    expect((await cli('neighbors', '1', '--as-of', sealedAt)).stdout).toBe('3\n5\n');
  });

  it('string ids: --id-type string reads digits as a string id', async () => {
    const r = await cli('get', '0042', '--id-type', 'string');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: '0042' });
    const asNumber = await cli('get', '0042');
    expect(asNumber.code).toBe(1);
    expect(asNumber.stderr).toMatch(/VERTEX_NOT_FOUND: vertex 42 does not exist/);
  });

  it('server errors exit 1 with their code', async () => {
    const future = await cli('neighbors', '1', '--epoch', String(later + 1000));
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/EPOCH_NOT_FOUND: epoch \d+ has not been sealed yet/);
    const missing = await cli('get', '999');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('VERTEX_NOT_FOUND');
  });

  it('run pagerank and bfs give the Graphalytics expected values', async () => {
    const pr = await cli('run', 'pagerank', '--iterations', '2', '--epoch', String(loaded));
    expect(pr.code).toBe(0);
    expect(pr.stderr).toBe(`pagerank at epoch ${loaded}: 10 vertices\n`);
    const want = await expectedValues(`${EXAMPLE}-PR`);
    const got = new Map(
      pr.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ').map(Number) as [number, number]),
    );
    expect(got.size).toBe(want.size);
    for (const [v, x] of want) expect(Math.abs((got.get(v) ?? Number.NaN) - x)).toBeLessThanOrEqual(1e-4 * x);

    const bfs = await cli('run', 'bfs', '--source', '1', '--epoch', String(loaded));
    const wantBfs = await readExpected(`${EXAMPLE}-BFS`);
    for (const line of bfs.stdout.trim().split('\n')) {
      const [v, x] = line.split(' ');
      const expected = wantBfs.get(Number(v));
      expect(x).toBe(expected === UNREACHABLE ? 'null' : expected);
    }
    const top = JSON.parse(
      (await cli('run', 'pagerank', '--iterations', '2', '--top', '3', '--json', '--epoch', String(loaded)))
        .stdout,
    );
    const best = [...want.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([v]) => v);
    expect(top.ids).toEqual(best);
    expect(top.values).toHaveLength(3);
  });
});
