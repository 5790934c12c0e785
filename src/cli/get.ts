/** `epochgraph get ID`: one vertex at an epoch, as JSON. */
import { EXIT_OK, helpText, parseCommandArgs } from './args.js';
import { atFromFlags, clientFromFlags, idFromText, toJson } from './client-flags.js';
import { GET } from './commands.js';
import { type CliIo, write } from './io.js';

export async function execute(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals, help } = parseCommandArgs(GET, argv);
  if (help) {
    await write(io.stdout, helpText(GET));
    return EXIT_OK;
  }
  const id = idFromText(positionals[0], values);
  const at = atFromFlags(values);
  const client = clientFromFlags(values, io.env);
  await write(io.stdout, `${toJson(await client.vertex(id, at))}\n`);
  return EXIT_OK;
}
