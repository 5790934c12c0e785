/** `epochgraph epochs`: the table of GET /v1/epochs. */
import type { EpochsInfo } from '../client/index.js';
import { boolFlag, EXIT_OK, helpText, parseCommandArgs } from './args.js';
import { clientFromFlags, toJson } from './client-flags.js';
import { EPOCHS } from './commands.js';
import { type CliIo, write } from './io.js';
import { table } from './table.js';

/** The text form of GET /v1/epochs. */
export function epochsText(e: EpochsInfo): string {
  const head = [
    `latest epoch  ${e.latest}  (sealed ${e.latestSealedAt})`,
    `oldest epoch  ${e.oldest}  (${e.retained} retained; retention ${e.retainMs} ms, epoch clock ${e.epochMs} ms)`,
    '',
  ];
  const rows = e.partitions.map((p) => [
    String(p.partition),
    String(p.epoch),
    String(p.vertices),
    String(p.edges),
  ]);
  return `${head.join('\n')}\n${table(['partition', 'epoch', 'vertices', 'edges'], rows)}`;
}

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, help } = parseCommandArgs(EPOCHS, argv);
  if (help) {
    await write(io.stdout, helpText(EPOCHS));
    return EXIT_OK;
  }
  const client = clientFromFlags(values, io.env);
  const e = await client.epochs();
  await write(io.stdout, boolFlag(values, 'json') ? `${toJson(e)}\n` : epochsText(e));
  return EXIT_OK;
}
