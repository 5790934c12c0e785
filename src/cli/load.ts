/**
 * `epochgraph load FILE...`: check the flags and files, then stream the files into the
 * daemon (bulk-loader.ts) with a progress bar, and print the epoch that holds everything.
 */
import { stat } from 'node:fs/promises';
import { EpochgraphError } from '../errors.js';
import { formatFromPath, type GraphFileFormat } from '../formats/index.js';
import { utf8ByteLength } from '../model/ids.js';
import { MAX_EDGES_PER_BATCH, MAX_OPS_PER_BATCH } from '../model/ops.js';
import { MAX_LABEL_BYTES } from '../model/schema.js';
import {
  boolFlag,
  EXIT_FAILURE,
  EXIT_OK,
  enumFlag,
  helpText,
  intFlag,
  parseCommandArgs,
  stringFlag,
  UsageError,
} from './args.js';
import { LoadError, type LoadFile, loadFiles } from './bulk-loader.js';
import { clientFromFlags, ID_TYPES, toJson } from './client-flags.js';
import { DEFAULT_BATCH_EDGES, DEFAULT_IN_FLIGHT, LOAD, LOAD_FORMATS, type LoadFormat } from './commands.js';
import { type CliIo, write } from './io.js';
import { humanCount, progressBar } from './progress.js';

/** The parser format of a file under a `--format` (or by its extension without one). */
export function parserFormat(file: string, format: LoadFormat | undefined): GraphFileFormat {
  const lower = file.toLowerCase();
  switch (format) {
    case undefined:
      return formatFromPath(file);
    case 'graphalytics':
      return lower.endsWith('.v') ? 'vertices' : 'edgelist';
    case 'edgelist':
      return 'edgelist';
    case 'csv':
      return 'csv';
    case 'adjacency':
      return 'adjacency';
  }
}

function labelFlag(values: Parameters<typeof stringFlag>[0], name: string): string | undefined {
  const l = stringFlag(values, name);
  if (l !== undefined && (l.length === 0 || utf8ByteLength(l) > MAX_LABEL_BYTES)) {
    throw new UsageError(`--${name}: a label is 1 to 128 UTF-8 bytes, got "${l}"`);
  }
  return l;
}

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(LOAD, argv);
  if (help) {
    await write(io.stdout, helpText(LOAD));
    return EXIT_OK;
  }
  const format = enumFlag(values, 'format', LOAD_FORMATS);
  const batchEdges =
    intFlag(values, 'batch-edges', 1, Math.min(MAX_OPS_PER_BATCH, MAX_EDGES_PER_BATCH / 2)) ??
    DEFAULT_BATCH_EDGES;
  const inFlight = intFlag(values, 'in-flight', 1, 64) ?? DEFAULT_IN_FLIGHT;
  const delimiter = stringFlag(values, 'delimiter');
  if (delimiter !== undefined && (delimiter.length !== 1 || /["\r\n]/.test(delimiter))) {
    throw new UsageError(
      `--delimiter: expected one character other than a quote or line break, got "${delimiter}"`,
    );
  }
  if (boolFlag(values, 'progress') && boolFlag(values, 'no-progress')) {
    throw new UsageError('give --progress or --no-progress, not both');
  }
  const label = labelFlag(values, 'label');
  const vertexLabel = labelFlag(values, 'vertex-label');
  const idType = enumFlag(values, 'id-type', ID_TYPES) ?? 'auto';
  const json = boolFlag(values, 'json');
  const client = clientFromFlags(values, io.env);

  const files: LoadFile[] = [];
  for (const path of positionals) {
    let bytes: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new EpochgraphError('INVALID_REQUEST', `${path}: not a file`);
      bytes = s.size;
    } catch (err) {
      if (err instanceof EpochgraphError) throw err;
      throw new EpochgraphError(
        'INVALID_REQUEST',
        `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    files.push({ path, format: parserFormat(path, format), bytes });
  }

  const showBar = !boolFlag(values, 'no-progress') && (io.stderrIsTTY || boolFlag(values, 'progress'));
  const bar = showBar
    ? progressBar(
        io.stderr,
        files.reduce((s, f) => s + f.bytes, 0),
        io.stderrIsTTY,
      )
    : null;
  try {
    const r = await loadFiles(client, files, {
      batchEdges,
      inFlight,
      idType,
      delimiter,
      undirected: boolFlag(values, 'undirected'),
      label,
      vertexLabel,
      onProgress: bar === null ? undefined : (p) => bar.update(p),
    });
    bar?.stop();
    const rate = r.edges / Math.max(r.seconds, 1e-6);
    if (json) {
      await write(io.stdout, `${toJson({ ...r, edgesPerSecond: Math.round(rate) }, 0)}\n`);
    } else {
      const v = r.vertices === 0 ? '' : ` and ${r.vertices} vertices`;
      await write(
        io.stdout,
        `loaded ${r.edges} edges${v} from ${r.files} file${r.files === 1 ? '' : 's'} in ${r.seconds.toFixed(2)} s ` +
          `(${humanCount(rate)} edges/s, ${r.batches} batch${r.batches === 1 ? '' : 'es'}); epoch ${r.epoch}\n`,
      );
    }
    return EXIT_OK;
  } catch (err) {
    bar?.stop();
    if (!(err instanceof LoadError)) throw err;
    await write(io.stderr, `error: ${err.message}\n${err.report.map((l) => `  ${l}\n`).join('')}`);
    return EXIT_FAILURE;
  }
}
