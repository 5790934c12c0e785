/**
 * epochgraph: a multi-version snapshot graph store.
 * The library's public face; the daemon and CLI are composed in src/daemon.ts and src/cli.ts.
 */
export type { ErrorCode, ErrorData } from './errors.js';
export { EpochgraphError, ERROR_CODES, ERROR_STATUS, errorFromData, toErrorData } from './errors.js';
export type { ExternalId } from './model/ids.js';
export { checkExternalId, idHash, MAX_STRING_ID_BYTES, parsePathId, partitionOf } from './model/ids.js';
