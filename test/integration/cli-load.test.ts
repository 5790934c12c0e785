/**
 * `epochgraph load` as a real process against a real daemon, checked through the client:
 * Graphalytics pairs, the adjacency format, --undirected, CSV properties with empty fields,
 * progress with rate and ETA, and the atomicity promise of a bad line: the file and line are
 * named, the batches before it are applied and acknowledged, and nothing from the batch that
 * holds it on is applied.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochgraphClient, EpochgraphError, type ExternalId } from '../../src/client/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/cli-daemon.js';
import { runCli } from '../helpers/cli-process.js';
import { fixture } from '../helpers/graphalytics-files.js';
import { tempDir } from '../helpers/temp-dir.js';

const EXAMPLE = fixture('example', 'example-directed');
const EXAMPLE_EDGES = readFileSync(`${EXAMPLE}.e`, 'utf8');

let dir: { path: string; remove(): Promise<void> };
const daemons: TestDaemon[] = [];
beforeAll(async () => {
  dir = await tempDir('epochgraph-cli-load-');
});
afterAll(async () => {
  for (const d of daemons) await d.close().catch(() => undefined);
  await dir.remove();
});

async function fresh(): Promise<{ server: string; client: EpochgraphClient }> {
  const d = await startTestDaemon();
  daemons.push(d);
  return { server: d.server, client: new EpochgraphClient({ server: d.server }) };
}

function file(name: string, text: string): string {
  const p = path.join(dir.path, name);
  writeFileSync(p, text);
  return p;
}

/** Out-neighbours of every vertex of a `src dst ...` edge file (optionally both ways). */
function adjacencyOf(text: string, undirected = false): Map<number, Set<number>> {
  const adj = new Map<number, Set<number>>();
  const add = (a: number, b: number) => {
    if (!adj.has(a)) adj.set(a, new Set());
    adj.get(a)?.add(b);
  };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    add(Number(f[0]), Number(f[1]));
    if (undirected) add(Number(f[1]), Number(f[0]));
  }
  return adj;
}

async function outSet(client: EpochgraphClient, id: ExternalId, epoch?: number): Promise<Set<ExternalId>> {
  const page = await client.neighbors(id, { epoch, limit: 100_000 });
  return new Set(page.neighbors);
}

async function notFound(client: EpochgraphClient, id: ExternalId): Promise<boolean> {
  try {
    await client.vertex(id);
    return false;
  } catch (err) {
    if (err instanceof EpochgraphError && err.code === 'VERTEX_NOT_FOUND') return true;
    throw err;
  }
}

describe('epochgraph load', () => {
  it('loads a Graphalytics pair (vertices and weighted edges), and reports the epoch', async () => {
    const { server, client } = await fresh();
    const r = await runCli(['load', `${EXAMPLE}.v`, `${EXAMPLE}.e`, '--server', server, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { epoch: number; edges: number; vertices: number; batches: number };
    expect(out).toMatchObject({ edges: 17, vertices: 10, batches: 2 });
    expect((await client.epochs()).latest).toBe(out.epoch);
    const expected = adjacencyOf(EXAMPLE_EDGES);
    for (let v = 1; v <= 10; v++)
      expect(await outSet(client, v, out.epoch)).toEqual(expected.get(v) ?? new Set());
    // Weights land in the `weight` edge property; vertex 4 (no out-edges) exists as a vertex.
    const page = await client.neighbors(1, { props: ['weight'] });
    expect(page.neighbors).toEqual([3, 5]);
    expect(page.props).toEqual([{ weight: 0.5 }, { weight: 0.3 }]);
    expect((await client.vertex(4)).outDegree).toBe(0);
    const schema = await client.schema();
    expect(schema.edgeLabels.find((l) => l.name === 'edge')?.properties).toEqual([
      { name: 'weight', type: 'float64' },
    ]);
  });

  it('loads the adjacency format, and --undirected stores both directions', async () => {
    const { server, client } = await fresh();
    const r = await runCli([
      'load',
      `${EXAMPLE}-input`,
      '--format',
      'adjacency',
      '--undirected',
      '--server',
      server,
      '--batch-edges',
      '4',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^loaded 17 edges and 10 vertices from 1 file in .* batches\); epoch \d+\n$/);
    const expected = adjacencyOf(EXAMPLE_EDGES, true);
    const rows = await client.batchNeighbors(Float64Array.from({ length: 10 }, (_, i) => i + 1));
    for (let v = 1; v <= 10; v++) {
      const got = new Set(Array.from(rows.neighbors).slice(rows.offsets[v - 1], rows.offsets[v]));
      expect(got).toEqual(expected.get(v) ?? new Set());
    }
  });

  it('loads CSV with properties; rows with an empty field keep the fields they have', async () => {
    const { server, client } = await fresh();
    const csv = file(
      'people.csv',
      'src,dst,since,kind\nalice,bob,2019,friend\nbob,carol,,colleague\n"carol, jr",alice,2021,"fam ""ily"""\n',
    );
    const r = await runCli(['load', csv, '--label', 'knows', '--server', server]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = await client.neighbors('alice', { props: ['since', 'kind'] });
    expect(a.neighbors).toEqual(['bob']);
    expect(a.props).toEqual([{ since: 2019, kind: 'friend' }]);
    const b = await client.neighbors('bob', { props: ['since', 'kind'], label: 'knows' });
    expect(b.props).toEqual([{ kind: 'colleague' }]);
    const c = await client.neighbors('carol, jr', { props: ['kind'] });
    expect(c.props).toEqual([{ kind: 'fam "ily"' }]);
  });

  it('shows progress with the rate and ETA when asked to on a pipe', async () => {
    const { server } = await fresh();
    const lines = Array.from({ length: 3000 }, (_, i) => `${i} ${i + 1}`).join('\n');
    const r = await runCli([
      'load',
      file('chain.e', lines),
      '--progress',
      '--batch-edges',
      '500',
      '--server',
      server,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/100% \| [\d.]+\/[\d.]+ MiB \| 3000 edges \| [\d.]+K? edges\/s \| ETA \d+s/);
    const quiet = await runCli(['load', file('chain2.e', lines), '--server', server]);
    expect(quiet.stderr).toBe('');
  });

  it('stops at a bad line with file:line and reason; earlier batches applied, nothing from its batch on', async () => {
    const { server, client } = await fresh();
    const lines = Array.from({ length: 30 }, (_, i) => `${i + 1} ${i + 101}`);
    lines[22] = '23 123 0.5 extra'; // line 23: four fields
    const bad = file('bad.e', `${lines.join('\n')}\n`);
    const r = await runCli(['load', bad, '--batch-edges', '5', '--in-flight', '2', '--server', server]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error: ${bad}:23: expected "src dst [weight]", got 4 fields`);
    const epoch = (await client.epochs()).latest;
    expect(r.stderr).toContain(`applied (acknowledged, readable at epoch ${epoch}): ${bad} lines 1-20`);
    expect(r.stderr).toContain(`not sent: ${bad} from line 21 on (the batch holding the bad line)`);
    // Lines 1-20 (four whole batches) are there; lines 21-30 are not, not even 21 and 22,
    // which share the bad line's batch.
    for (let i = 1; i <= 20; i++) expect(await outSet(client, i)).toEqual(new Set([i + 100]));
    for (let i = 21; i <= 30; i++) expect(await notFound(client, i)).toBe(true);
    const counts = (await client.epochs()).partitions.reduce((s, p) => s + p.vertices, 0);
    expect(counts).toBe(40);
  });

  it('names the file that fails when several are loaded, after applying the ones before it', async () => {
    const { server, client } = await fresh();
    const good = file('good.e', '1 2\n2 3\n');
    const bad = file('bad2.e', '4 5\nfive 6 x y\n');
    const after = file('after.e', '7 8\n');
    const r = await runCli(['load', good, bad, after, '--server', server]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:2: expected "src dst [weight]", got 4 fields`);
    expect(r.stderr).toContain(`${good} lines 1-2`);
    expect(r.stderr).toContain(
      `not sent: ${bad} from line 1 on (the batch holding the bad line), and the files after it`,
    );
    expect(await outSet(client, 2)).toEqual(new Set([3]));
    expect(await notFound(client, 4)).toBe(true);
    expect(await notFound(client, 7)).toBe(true);
  });

  it('reports a batch the server refuses (a schema conflict) and what was applied', async () => {
    const { server, client } = await fresh();
    await client.submitBatch({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { weight: 'heavy' } }] });
    const weighted = file('weighted.e', '3 4 0.5\n');
    const r = await runCli(['load', weighted, '--server', server]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/weighted\.e lines 1-1: the server refused the batch: SCHEMA_CONFLICT: /);
    expect(r.stderr).toContain('applied: nothing');
    expect(r.stderr).toContain(`refused (nothing of them applied): ${weighted} lines 1-1`);
    expect(await notFound(client, 3)).toBe(true);
  });
});
