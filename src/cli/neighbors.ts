/**
 * `epochgraph neighbors ID`: a vertex's neighbours at one epoch, every page (the first page
 * fixes the epoch), one id per line, or one JSON object with `--json`.
 */
import { DIRECTIONS, type ExternalId } from '../client/index.js';
import { boolFlag, EXIT_OK, enumFlag, helpText, intFlag, parseCommandArgs, stringFlag } from './args.js';
import { atFromFlags, clientFromFlags, idFromText, toJson } from './client-flags.js';
import { NEIGHBORS } from './commands.js';
import { type CliIo, write } from './io.js';

/** Neighbours per request (the API's largest page is 100 000). */
const PAGE = 10_000;

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(NEIGHBORS, argv);
  if (help) {
    await write(io.stdout, helpText(NEIGHBORS));
    return EXIT_OK;
  }
  const id = idFromText(positionals[0], values);
  const at = atFromFlags(values);
  const direction = enumFlag(values, 'direction', DIRECTIONS) ?? 'out';
  const label = stringFlag(values, 'label');
  const max = intFlag(values, 'limit', 0, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY;
  const json = boolFlag(values, 'json');
  const client = clientFromFlags(values, io.env);

  let epoch = 0;
  let count = 0;
  const all: ExternalId[] = [];
  const dirs: string[] = [];
  const pages = client.neighborPages(id, {
    ...at,
    direction,
    label,
    limit: Math.min(PAGE, Math.max(1, max)),
  });
  for await (const page of pages) {
    epoch = page.epoch;
    const take = Math.min(page.neighbors.length, max - count);
    if (json) {
      for (let i = 0; i < take; i++) all.push(page.neighbors[i]);
      if (page.directions !== undefined) dirs.push(...page.directions.slice(0, take));
    } else {
      let text = '';
      for (let i = 0; i < take; i++) {
        text +=
          page.directions === undefined
            ? `${page.neighbors[i]}\n`
            : `${page.neighbors[i]}\t${page.directions[i]}\n`;
      }
      if (text.length > 0) await write(io.stdout, text);
    }
    count += take;
    if (count >= max) break;
  }
  if (json) {
    const body: Record<string, unknown> = { epoch, id, neighbors: all };
    if (direction === 'both') body.directions = dirs;
    await write(io.stdout, `${toJson(body)}\n`);
  }
  return EXIT_OK;
}
