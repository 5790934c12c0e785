/**
 * What a command may touch of its process: output streams, the environment and whether
 * stderr is a terminal. Commands get it as an argument, so they can be run in-process.
 */
import type { Writable } from 'node:stream';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress bars draw only there unless asked to). */
  readonly stderrIsTTY: boolean;
}

/** Write text to a stream and wait until it is handed to the OS (so exit cannot cut it). */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

/** The io of this process. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}
