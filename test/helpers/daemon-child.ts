/**
 * A daemon in a child process (for tests that kill it): argv[2] is a JSON serve config.
 * Prints {"ready": epoch} when started and acknowledges batches read as JSON lines on stdin.
 */
import { createInterface } from 'node:readline';
import { serveConfigSchema } from '../../src/config.js';
import { Daemon } from '../../src/daemon.js';

const LIMITS = { chunkWords: 1 << 18, maxChunks: 16, indexSegments: 4, poolSlots: 64, slotMaxBytes: 1 << 24 };

async function main(): Promise<void> {
  const config = serveConfigSchema.parse(JSON.parse(process.argv[2]));
  const d = await Daemon.start(config, { limits: LIMITS });
  process.stdout.write(`${JSON.stringify({ ready: d.machine.latestEpoch })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const r = await d.machine.submit(JSON.parse(line));
    process.stdout.write(`${JSON.stringify({ epoch: r.epoch })}\n`);
  }
}

if (process.argv[1]?.endsWith('daemon-child.js')) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
