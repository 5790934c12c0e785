#!/usr/bin/env node
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './cli/args.js';
import { COMMAND_NAMES, mainHelp } from './cli/commands.js';
import { type CliIo, processIo, write } from './cli/io.js';
import { packageVersion } from './cli/version.js';
/**
 * The `epochgraph` command: dispatches to src/cli/<command>.ts (loaded on demand, so client
 * commands never load the daemon) and turns errors into messages and exit statuses:
 * 0 success, 1 failure (the server's error, an unreachable daemon, a bad input file),
 * 2 bad usage (unknown flag, bad value, named in the message).
 */
import { ConnectionError } from './client/index.js';
import { EpochgraphError } from './errors.js';

type Execute = (argv: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<{ execute: Execute }>>> = {
  serve: () => import('./cli/serve.js'),
  load: () => import('./cli/load.js'),
  epochs: () => import('./cli/epochs.js'),
  get: () => import('./cli/get.js'),
  neighbors: () => import('./cli/neighbors.js'),
  run: () => import('./cli/run-algorithm.js'),
};

async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && Object.hasOwn(COMMANDS, topic)) return main([topic, '--help'], io);
    await write(name === undefined ? io.stderr : io.stdout, mainHelp(packageVersion()));
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    await write(io.stdout, `${packageVersion()}\n`);
    return EXIT_OK;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    await write(
      io.stderr,
      `epochgraph: unknown command "${name}" (commands: ${COMMAND_NAMES.join(', ')}; see epochgraph --help)\n`,
    );
    return EXIT_USAGE;
  }
  try {
    return await (await load()).execute(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      await write(io.stderr, `epochgraph ${name}: ${err.message}\n(see epochgraph ${name} --help)\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConnectionError) {
      await write(
        io.stderr,
        `epochgraph ${name}: ${err.message}\n(is the daemon running? start one with: epochgraph serve; or pass --server URL)\n`,
      );
      return EXIT_FAILURE;
    }
    if (err instanceof EpochgraphError) {
      await write(io.stderr, `epochgraph ${name}: ${err.code}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

main(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `epochgraph: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = EXIT_FAILURE;
  },
);
