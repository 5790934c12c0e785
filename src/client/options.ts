/**
 * The client's constants and option types (client.ts re-exports them): the default server,
 * the closed sets of directions and algorithms, and what each method of EpochgraphClient
 * takes.
 */
import type { ExternalId } from '../model/ids.js';
import type { EdgeColumns, Op } from '../model/ops.js';
import type { NeighborPageBody } from './responses.js';
import type { RetryOptions } from './retry.js';
import type { Encoding } from './transport.js';

/** The default daemon address (`epochgraph serve` without flags). */
export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

/** Neighbour directions of a read. */
export const DIRECTIONS = ['out', 'in', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];
/** Directions of a CSR export (one per export). */
export const CSR_DIRECTIONS = ['out', 'in'] as const;
export type CsrDirection = (typeof CSR_DIRECTIONS)[number];
/** The algorithms of `POST .../algorithms/:name`. */
export const ALGORITHM_NAMES = ['bfs', 'pagerank', 'wcc', 'cdlp', 'lcc', 'sssp'] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

/** Options of every algorithm. */
export interface CommonAlgorithmParams {
  /** Count every edge in both directions (default false). */
  undirected?: boolean;
  /** Return only the k best vertices, sorted. */
  top?: number;
}
/** The parameters of each algorithm (DESIGN.md §7); the server fills in the defaults. */
export interface AlgorithmParamsByName {
  bfs: CommonAlgorithmParams & { source: ExternalId; direction?: Direction };
  pagerank: CommonAlgorithmParams & { iterations?: number; damping?: number };
  wcc: CommonAlgorithmParams;
  cdlp: CommonAlgorithmParams & { iterations?: number };
  lcc: CommonAlgorithmParams;
  sssp: CommonAlgorithmParams & { source: ExternalId; weight?: string };
}

export interface ClientOptions {
  /** Base URL of the daemon (default {@link DEFAULT_SERVER}). */
  server?: string;
  /** Body encoding both ways (default msgpack: typed-array columns, smaller and faster). */
  encoding?: Encoding;
  /** Retry options (see retry.ts for what is retried), or false for none. */
  retry?: RetryOptions | false;
  /** Timeout of each attempt, in ms (default none). */
  timeoutMs?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Extra headers on every request (for example an auth header for a proxy). */
  headers?: Record<string, string>;
}

/** Which snapshot a read is at: an epoch number, `latest` (default), or the newest sealed at or before `asOf`. */
export interface At {
  epoch?: number | 'latest';
  asOf?: string | Date;
}

/** A batch: ops, and/or the columnar bulk form (use typed arrays in `edges` for speed). */
export interface BatchInput {
  ops?: Op[];
  edges?: EdgeColumns;
}

export interface NeighborOptions extends At {
  direction?: Direction;
  /** Only edges of this label. */
  label?: string;
  /** Page size (the server's default is 1000, its maximum 100 000). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** Edge properties to return, parallel to the neighbours. */
  props?: string[];
}

/** A page of neighbours (ids as a plain array, whatever the encoding). */
export interface NeighborPage {
  epoch: number;
  id: ExternalId;
  neighbors: ExternalId[];
  /** With direction `both`: the direction of each neighbour. */
  directions?: NeighborPageBody['directions'];
  /** With `props`: the edge properties, parallel to neighbors. */
  props?: NeighborPageBody['props'];
  /** Pass it as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface BatchNeighborOptions extends At {
  direction?: Direction;
  label?: string;
}

export interface SubgraphOptions extends At {
  hops?: number;
  direction?: Direction;
  maxVertices?: number;
}

export interface CsrOptions extends At {
  direction?: CsrDirection;
  label?: string;
}

export interface PinOptions {
  /** How long the pin lives, in ms. */
  ttlMs: number;
  /** The epoch to pin (default: the latest). */
  epoch?: number | 'latest';
}
