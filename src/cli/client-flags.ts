/**
 * Flags shared by the commands that talk to a running daemon (everything but `serve`): where
 * the daemon is, which snapshot to read, how ids on the command line are read, and the
 * client built from them.
 */
import { type At, DEFAULT_SERVER, EpochgraphClient } from '../client/index.js';
import { typedArraysAsArrays } from '../client/transport.js';
import type { ExternalId } from '../model/ids.js';
import { checkExternalId } from '../model/ids.js';
import { enumFlag, type FlagSpec, type FlagValues, intFlag, stringFlag, UsageError } from './args.js';

export const SERVER_ENV = 'EPOCHGRAPH_SERVER';

export const SERVER_FLAG: FlagSpec = {
  name: 'server',
  type: 'string',
  value: 'URL',
  description: 'the daemon to talk to',
  default: DEFAULT_SERVER,
  env: SERVER_ENV,
};

export const TIMEOUT_FLAG: FlagSpec = {
  name: 'timeout-ms',
  type: 'string',
  value: 'N',
  description: 'give up on a request after N ms (each attempt)',
};

export const JSON_FLAG: FlagSpec = {
  name: 'json',
  type: 'boolean',
  description: 'print JSON instead of text',
};

export const ID_TYPES = ['auto', 'string'] as const;
export const ID_TYPE_FLAG: FlagSpec = {
  name: 'id-type',
  type: 'string',
  value: 'auto|string',
  description: 'string: read ids made of digits as string ids (auto: digits are integer ids)',
  default: 'auto',
};

/** Flags that pick a snapshot. */
export const SNAPSHOT_FLAGS: readonly FlagSpec[] = [
  {
    name: 'epoch',
    type: 'string',
    value: 'E',
    description: 'read at epoch E (a number or latest)',
    default: 'latest',
  },
  {
    name: 'as-of',
    type: 'string',
    value: 'ISO',
    description: 'read the newest epoch sealed at or before this time (e.g. 2025-01-31T12:00:00Z)',
  },
];

/** The flags every client command takes. */
export const CLIENT_FLAGS: readonly FlagSpec[] = [SERVER_FLAG, TIMEOUT_FLAG];

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The client the flags (and EPOCHGRAPH_SERVER) ask for. */
export function clientFromFlags(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
): EpochgraphClient {
  const flag = stringFlag(values, 'server');
  const server = flag ?? env[SERVER_ENV] ?? DEFAULT_SERVER;
  const where = flag !== undefined ? '--server' : env[SERVER_ENV] !== undefined ? SERVER_ENV : '--server';
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`${where}: "${server}" is not a URL (expected e.g. ${DEFAULT_SERVER})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${where}: "${server}" must be an http:// or https:// URL`);
  }
  const timeoutMs = intFlag(values, 'timeout-ms', 1, 24 * 3600 * 1000);
  return new EpochgraphClient({ server, timeoutMs });
}

/** The snapshot `--epoch` / `--as-of` pick. */
export function atFromFlags(values: FlagValues): At {
  const epoch = stringFlag(values, 'epoch');
  const asOf = stringFlag(values, 'as-of');
  if (epoch !== undefined && asOf !== undefined) throw new UsageError('give --epoch or --as-of, not both');
  if (asOf !== undefined) {
    if (!ISO_DATETIME.test(asOf) || Number.isNaN(Date.parse(asOf))) {
      throw new UsageError(`--as-of: expected an ISO 8601 time with Z or an offset, got "${asOf}"`);
    }
    return { asOf };
  }
  if (epoch === undefined || epoch === 'latest') return { epoch: 'latest' };
  if (!/^\d{1,15}$/.test(epoch))
    throw new UsageError(`--epoch: expected an epoch number or "latest", got "${epoch}"`);
  return { epoch: Number(epoch) };
}

/** An id from the command line: digits are an integer id unless `--id-type string`. */
export function idFromText(text: string, values: FlagValues, what = 'ID'): ExternalId {
  const asString = enumFlag(values, 'id-type', ID_TYPES) === 'string';
  if (!asString && /^\d+$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) {
      throw new UsageError(
        `${what} ${text} is larger than 2^53-1 (pass --id-type string to use it as a string id)`,
      );
    }
    return n;
  }
  try {
    return checkExternalId(text, what);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** JSON with typed arrays as arrays, for printing. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, typedArraysAsArrays, indent);
}
