/**
 * The logger the metadata store writes to. It is structural so the daemon can pass an adapter
 * over its own logger (pino under Fastify takes `(fields, message)`, so wrap it).
 */
export interface MetaLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

function line(level: string, message: string, fields?: Readonly<Record<string, unknown>>): string {
  return fields === undefined
    ? `[epochgraph meta] ${level} ${message}\n`
    : `[epochgraph meta] ${level} ${message} ${JSON.stringify(fields)}\n`;
}

/** Writes one line per message to stderr; the default when no logger is given. */
export const stderrLogger: MetaLogger = Object.freeze({
  info: (m: string, f?: Readonly<Record<string, unknown>>) => process.stderr.write(line('info', m, f)),
  warn: (m: string, f?: Readonly<Record<string, unknown>>) => process.stderr.write(line('warn', m, f)),
  error: (m: string, f?: Readonly<Record<string, unknown>>) => process.stderr.write(line('error', m, f)),
});

/** Drops everything; for benchmarks and tests that assert nothing about logs. */
export const silentLogger: MetaLogger = Object.freeze({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
