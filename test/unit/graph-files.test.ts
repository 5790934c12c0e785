/**
 * The graph file parsers: each format, comments, quoted CSV, ids (integer, string, too large,
 * too long), chunking with line ranges, streaming from byte pieces that split lines and UTF-8
 * characters, laziness, and bad lines with exact `file:line: reason` messages.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochgraphError } from '../../src/errors.js';
import {
  type CsvOptions,
  formatFromPath,
  type GraphChunk,
  type GraphFileFormat,
  type GraphFileOptions,
  type IdColumn,
  readAdjacency,
  readCsv,
  readEdgeList,
  readGraphFile,
  readVertexFile,
} from '../../src/formats/graph-files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'graph-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(gen: AsyncIterable<GraphChunk>): Promise<GraphChunk[]> {
  const out: GraphChunk[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

/** All chunks of a text, fed as a one-piece stream. */
function parse(format: GraphFileFormat, text: string, options: CsvOptions = {}): Promise<GraphChunk[]> {
  return collect(readGraphFile(Readable.from([text]), format, { name: 'test', ...options }));
}

const ids = (col: IdColumn | undefined) => (col === undefined ? undefined : [...col]);

/** The error a parse throws, checked to be INVALID_REQUEST. */
async function failure(run: Promise<unknown>): Promise<EpochgraphError> {
  try {
    await run;
  } catch (err) {
    expect(err).toBeInstanceOf(EpochgraphError);
    expect((err as EpochgraphError).code).toBe('INVALID_REQUEST');
    return err as EpochgraphError;
  }
  throw new Error('expected the parse to fail');
}

describe('Graphalytics adjacency', () => {
  it('reads heads as vertices and neighbours as edges, isolated vertices too', async () => {
    const [c] = await parse('adjacency', '1 3 5\n2\n\n3 1\t 2  \n9 10');
    expect(ids(c.vertices)).toEqual([1, 2, 3, 9]);
    expect(ids(c.src)).toEqual([1, 1, 3, 3, 9]);
    expect(ids(c.dst)).toEqual([3, 5, 1, 2, 10]);
    expect(c.weights).toBeUndefined();
    expect(c.src).toBeInstanceOf(Float64Array);
    expect([c.firstLine, c.lastLine]).toEqual([1, 5]);
  });

  it('reads the Graphalytics fixture, whose last line has no line break', async () => {
    const chunks = await collect(readAdjacency('/work/shared/graphalytics/bfs/dir-input'));
    expect(ids(chunks[0].vertices)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(chunks[0].src.length).toBe(17);
    expect(ids(chunks[0].dst)?.at(-1)).toBe(10);
  });

  it('names file and line of a bad id', async () => {
    const err = await failure(parse('adjacency', '1 2\n2 99999999999999999999\n', { name: 'g-input' }));
    expect(err.message).toBe(
      'g-input:2: id 99999999999999999999 is larger than 2^53-1 (read ids as strings to keep it as a string id)',
    );
    expect(err.details).toMatchObject({ file: 'g-input', line: 2 });
  });
});

describe('.v files', () => {
  it('reads one id per line, skipping blank lines, CRLF included', async () => {
    const [c] = await parse('vertices', '1\r\n2\r\n\r\n  30  \r\nabc\r\n');
    expect(ids(c.vertices)).toEqual([1, 2, 30, 'abc']);
    expect(c.src.length).toBe(0);
  });

  it('rejects a line with two fields', async () => {
    const err = await failure(parse('vertices', '1\n2\n3 4\n', { name: 'g.v' }));
    expect(err.message).toBe('g.v:3: expected "id", got 2 fields');
    expect(err.details).toEqual({ file: 'g.v', line: 3, reason: 'expected "id", got 2 fields' });
  });
});

describe('edge lists and .e files', () => {
  it('reads whitespace- and comma-separated edges, weights and comments', async () => {
    const text = ['# a comment', '% another', '1 2 0.5', '2,3,1e-3', '3 , 4', '', '  4\t5 7', 'a b'].join(
      '\n',
    );
    const [c] = await parse('edgelist', text);
    expect(ids(c.src)).toEqual([1, 2, 3, 4, 'a']);
    expect(ids(c.dst)).toEqual([2, 3, 4, 5, 'b']);
    expect(Array.isArray(c.src)).toBe(true);
    expect([...c.weights!]).toEqual([0.5, 0.001, Number.NaN, 7, Number.NaN]);
    expect([c.firstLine, c.lastLine]).toEqual([3, 8]);
  });

  it('reads the Graphalytics .e fixture with weights', async () => {
    const [c] = await collect(readEdgeList('/work/shared/graphalytics/example/example-directed.e'));
    expect(c.src.length).toBe(17);
    expect([c.src[0], c.dst[0], c.weights![0]]).toEqual([1, 3, 0.5]);
  });

  it('names the file and line of a line with too many fields', async () => {
    const lines = Array.from({ length: 16 }, (_, i) => `${i} ${i + 1}`);
    lines.push('17 18 1.0 extra');
    const path = join(dir, 'data.e');
    await writeFile(path, `${lines.join('\n')}\n`);
    const err = await failure(collect(readEdgeList(path, { name: 'data.e' })));
    expect(err.message).toBe('data.e:17: expected "src dst [weight]", got 4 fields');
    expect(err.details).toEqual({
      file: 'data.e',
      line: 17,
      reason: 'expected "src dst [weight]", got 4 fields',
    });
    // Without a name the message carries the path as given.
    const err2 = await failure(collect(readEdgeList(path)));
    expect(err2.message).toBe(`${path}:17: expected "src dst [weight]", got 4 fields`);
  });

  it('rejects one field, empty fields, and a weight that is not a number', async () => {
    expect((await failure(parse('edgelist', '1 2\n3\n'))).message).toBe(
      'test:2: expected "src dst [weight]", got 1 field',
    );
    expect((await failure(parse('edgelist', '1,,2\n'))).message).toBe('test:1: empty field 2');
    expect((await failure(parse('edgelist', '1,2,\n'))).message).toBe('test:1: empty field 3');
    expect((await failure(parse('edgelist', '\n\n1 2 heavy\n'))).message).toBe(
      'test:3: weight "heavy" is not a number',
    );
  });
});

describe('weights', () => {
  it('parse exactly as Number() does, fast path and fallback alike', async () => {
    const decimal = fc
      .tuple(
        fc.constantFrom('', '-', '+'),
        fc.stringMatching(/^[0-9]{1,20}$/),
        fc.option(fc.stringMatching(/^[0-9]{0,20}$/)),
        fc.option(fc.integer({ min: -30, max: 30 })),
      )
      .map(
        ([sign, int, frac, exp]) =>
          `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`,
      );
    await fc.assert(
      fc.asyncProperty(fc.array(decimal, { minLength: 1, maxLength: 20 }), async (ws) => {
        const [c] = await parse('edgelist', ws.map((w, i) => `${i} ${i + 1} ${w}`).join('\n'));
        expect([...c.weights!]).toEqual(ws.map(Number));
      }),
      { numRuns: 300 },
    );
  });
});

describe('ids', () => {
  it('keeps safe integers, rejects larger ones, and reads them as strings when asked', async () => {
    const [c] = await parse('edgelist', '9007199254740991 0\n007 x7\n');
    expect(ids(c.src)).toEqual([9007199254740991, 7]);
    expect(ids(c.dst)).toEqual([0, 'x7']);
    for (const big of ['9007199254740992', '9223372036854775807']) {
      const err = await failure(parse('edgelist', `1 2\n${big} 3\n`));
      expect(err.message).toBe(
        `test:2: id ${big} is larger than 2^53-1 (read ids as strings to keep it as a string id)`,
      );
    }
    const [s] = await parse('edgelist', '9223372036854775807 3\n', { idType: 'string' });
    expect(ids(s.src)).toEqual(['9223372036854775807']);
    expect(ids(s.dst)).toEqual(['3']);
  });

  it('rejects string ids over 256 UTF-8 bytes', async () => {
    const long = 'é'.repeat(129); // 258 bytes
    const err = await failure(parse('vertices', `ok\n${long}\n`));
    expect(err.message).toMatch(/^test:2: string id "é+\.\.\." is 258 UTF-8 bytes; the limit is 256$/);
    const [c] = await parse('vertices', `${'é'.repeat(128)}\n`);
    expect(ids(c.vertices)).toEqual(['é'.repeat(128)]);
  });

  it('switches a chunk to a mixed array at the first string id, and back to Float64Array in the next chunk', async () => {
    const chunks = await parse('edgelist', '1 2\nx 3\n4 5\n6 7\n', { chunkSize: 2 });
    expect(chunks.map((c) => ids(c.src))).toEqual([
      [1, 'x'],
      [4, 6],
    ]);
    expect(Array.isArray(chunks[0].src)).toBe(true);
    expect(chunks[0].dst).toBeInstanceOf(Float64Array);
    expect(chunks[1].src).toBeInstanceOf(Float64Array);
  });
});

describe('chunking and streaming', () => {
  it('yields chunks of chunkSize edges with their line ranges', async () => {
    const text = ['# header', ...Array.from({ length: 10 }, (_, i) => `${i} ${i + 1}`)].join('\n');
    const chunks = await parse('edgelist', text, { chunkSize: 3 });
    expect(chunks.map((c) => c.src.length)).toEqual([3, 3, 3, 1]);
    expect(chunks.map((c) => [c.firstLine, c.lastLine])).toEqual([
      [2, 4],
      [5, 7],
      [8, 10],
      [11, 11],
    ]);
    expect(chunks.map((c) => c.file)).toEqual(['test', 'test', 'test', 'test']);
  });

  it('reassembles lines and UTF-8 characters split across byte pieces', async () => {
    const bytes = Buffer.from('ä 1\r\nbö 2 0.25\n\u{1F600} 3\n', 'utf8');
    // One byte per piece: every line and every multi-byte character is split.
    const pieces = Array.from(bytes, (b) => Uint8Array.of(b));
    const [c] = await collect(readEdgeList(Readable.from(pieces)));
    expect(ids(c.src)).toEqual(['ä', 'bö', '\u{1F600}']);
    expect(ids(c.dst)).toEqual([1, 2, 3]);
    expect(c.file).toBe('<stream>');
  });

  it('skips a byte order mark', async () => {
    const [c] = await collect(readVertexFile(Readable.from([Buffer.from('\uFEFF12\n13\n', 'utf8')])));
    expect(ids(c.vertices)).toEqual([12, 13]);
  });

  it('reads lazily: the first chunk arrives before the input is consumed', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield `${i} ${i + 1}\n${i} ${i + 2}\n`;
      }
    }
    const gen = readEdgeList(source(), { chunkSize: 10 });
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(pulled).toBeLessThanOrEqual(6);
    await gen.return(undefined);
  });

  it('streams a large generated file in bounded chunks', async () => {
    const path = join(dir, 'big.e');
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`${i} ${(i * 7) % 200_000} ${i % 10}`);
    await writeFile(path, lines.join('\n'));
    let edges = 0;
    let chunks = 0;
    let last = 0;
    for await (const c of readEdgeList(path)) {
      expect(c.src.length).toBeLessThanOrEqual(65536);
      expect(c.firstLine).toBe(last + 1);
      last = c.lastLine;
      edges += c.src.length;
      chunks++;
    }
    expect([edges, chunks, last]).toEqual([200_000, 4, 200_000]);
  });

  it('reports a missing file as INVALID_REQUEST naming it', async () => {
    const path = join(dir, 'nope.e');
    const err = await failure(collect(readEdgeList(path)));
    expect(err.message).toBe(`${path}: cannot read (ENOENT)`);
  });

  it('rejects a bad chunk size', async () => {
    expect(() => readEdgeList(Readable.from(['1 2\n']), { chunkSize: 0 } as GraphFileOptions)).toThrow(
      /chunkSize must be a positive integer/,
    );
  });
});

describe('CSV', () => {
  it('reads src, dst, weight and typed property columns', async () => {
    const text = [
      'src,dst,weight,since,name,active',
      '1,2,0.5,2019,alice,true',
      '2, 3 ,,2020,,FALSE',
      'x,4,1,,"bob, jr.",',
    ].join('\n');
    const [c] = await parse('csv', text);
    expect(ids(c.src)).toEqual([1, 2, 'x']);
    expect(ids(c.dst)).toEqual([2, 3, 4]);
    expect([...c.weights!]).toEqual([0.5, Number.NaN, 1]);
    expect(c.props).toEqual({
      since: [2019, 2020, null],
      name: ['alice', null, 'bob, jr.'],
      active: [true, false, null],
    });
    expect([c.firstLine, c.lastLine]).toEqual([2, 4]);
  });

  it('reads quoted fields: delimiters, doubled quotes and line breaks inside quotes', async () => {
    const text = 'dst,src,note\r\n"2","1","say ""hi"", then\r\nleave"\r\n3,2,"a;b"\r\n';
    const [c] = await parse('csv', text);
    expect(ids(c.src)).toEqual([1, 2]);
    expect(ids(c.dst)).toEqual([2, 3]);
    expect(c.props).toEqual({ note: ['say "hi", then\nleave', 'a;b'] });
    expect(c.weights).toBeUndefined();
    // Line numbers count physical lines: the record after the quoted break is line 4.
    expect([c.firstLine, c.lastLine]).toEqual([2, 4]);
    const err = await failure(parse('csv', `${text}4,3\n`));
    expect(err.message).toBe('test:5: expected 3 fields (dst,src,note), got 2');
  });

  it('honours a delimiter, column types and idType', async () => {
    const [c] = await parse('csv', 'src;dst;zip\n01;02;02134\n', {
      delimiter: ';',
      types: { zip: 'string' },
      idType: 'string',
    });
    expect(ids(c.src)).toEqual(['01']);
    expect(c.props).toEqual({ zip: ['02134'] });
  });

  it('names file and line of bad records', async () => {
    const cases: [string, string][] = [
      ['a,b\n1,2\n', 'test:1: the header has no "src" column (columns: a, b)'],
      ['src,dst,src\n', 'test:1: column "src" appears twice in the header'],
      ['src,dst,w\n1,2,3\n1,2\n', 'test:3: expected 3 fields (src,dst,w), got 2'],
      ['src,dst,age\n1,2,3\n1,2,old\n', 'test:3: column "age" holds numbers, got "old"'],
      ['src,dst,ok\n1,2,true\n1,2,maybe\n', 'test:3: column "ok" holds booleans, got "maybe"'],
      ['src,dst,weight\n1,2,heavy\n', 'test:2: weight "heavy" is not a number'],
      ['src,dst\n,2\n', 'test:2: empty src'],
      ['src,dst\n1,"2\n\n', 'test:3: unterminated quoted field (opened on line 2)'],
      ['src,dst\n1,"2"x\n', 'test:2: unexpected character after the closing quote of field 2'],
      ['src,dst\n1,2"\n', 'test:2: quote inside unquoted field 2'],
      ['', 'test:1: no header row'],
    ];
    for (const [text, message] of cases) {
      expect((await failure(parse('csv', text))).message).toBe(message);
    }
  });

  it('splits chunks with their own property columns', async () => {
    const chunks = await parse('csv', 'src,dst,k\n1,2,a\n2,3,b\n3,4,c\n', { chunkSize: 2 });
    expect(chunks.map((c) => c.props)).toEqual([{ k: ['a', 'b'] }, { k: ['c'] }]);
  });
});

describe('format from path', () => {
  it('maps extensions', () => {
    expect(formatFromPath('x/example-directed.v')).toBe('vertices');
    expect(formatFromPath('x/example-directed.e')).toBe('edgelist');
    expect(formatFromPath('edges.CSV')).toBe('csv');
    expect(formatFromPath('graph.txt')).toBe('edgelist');
  });

  it('reads a CSV file from disk by path', async () => {
    const path = join(dir, 'g.csv');
    await writeFile(path, 'src,dst\n1,2\n');
    const [c] = await collect(readCsv(path));
    expect([c.file, ids(c.src), ids(c.dst)]).toEqual([path, [1], [2]]);
  });
});
