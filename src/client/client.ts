/**
 * The typed client of the epochgraph HTTP API (DESIGN.md §7): one method per route, msgpack
 * by default (JSON on request), retries by the rule of retry.ts, answers checked against
 * responses.ts, errors rebuilt as EpochgraphError from the error body. It runs wherever
 * `fetch` does: it uses nothing of Node beyond it.
 */
import { EpochgraphError, invalid } from '../errors.js';
import type { ExternalId } from '../model/ids.js';
import { ConnectionError } from './connection-error.js';
import { decodeMsgpackStream } from './msgpack-stream.js';
import {
  ALGORITHM_NAMES,
  type AlgorithmName,
  type AlgorithmParamsByName,
  type At,
  type BatchInput,
  type BatchNeighborOptions,
  type ClientOptions,
  type CsrOptions,
  DEFAULT_SERVER,
  type NeighborOptions,
  type NeighborPage,
  type PinOptions,
  type SubgraphOptions,
} from './options.js';
import {
  type AlgorithmResult,
  algorithmResultSchema,
  type BatchAck,
  batchAckSchema,
  type EpochDetail,
  type EpochsInfo,
  epochDetailSchema,
  epochsSchema,
  type GraphSchema,
  type Health,
  healthSchema,
  type NeighborRows,
  neighborPageSchema,
  neighborRowsSchema,
  type PartitionCsr,
  type PinInfo,
  partitionCsrSchema,
  pinSchema,
  type Ready,
  readySchema,
  type Subgraph,
  schemaSchema,
  subgraphSchema,
  type Vertex,
  vertexSchema,
} from './responses.js';
import { retryPolicy, sleep } from './retry.js';
import { asOfQuery, epochSegment, idSegment, idsBody } from './route-params.js';
import {
  type CallOptions,
  checkAnswer,
  decodeBody,
  type Encoding,
  type RouteRequest,
  Transport,
} from './transport.js';

export * from './options.js';

/** The client. Methods take an optional last argument of {@link CallOptions} (signal, retry, timeout). */
export class EpochgraphClient {
  readonly server: string;
  readonly encoding: Encoding;
  private readonly t: Transport;

  constructor(opts: ClientOptions = {}) {
    const server = opts.server ?? DEFAULT_SERVER;
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw invalid(`server "${server}" is not a URL (expected e.g. ${DEFAULT_SERVER})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalid(`server "${server}" must be an http:// or https:// URL`);
    }
    if (opts.timeoutMs !== undefined && !(Number.isFinite(opts.timeoutMs) && opts.timeoutMs > 0)) {
      throw invalid(`timeoutMs must be a positive number, got ${opts.timeoutMs}`);
    }
    this.encoding = opts.encoding ?? 'msgpack';
    this.t = new Transport({
      server,
      encoding: this.encoding,
      retry: retryPolicy(opts.retry),
      timeoutMs: opts.timeoutMs,
      fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
      headers: opts.headers ?? {},
    });
    this.server = this.t.server;
  }

  /** `GET /v1/health`: liveness, the latest epoch, where the metadata lives. */
  health(call?: CallOptions): Promise<Health> {
    return this.t.call({ method: 'GET', path: '/v1/health', safety: 'idempotent' }, healthSchema, call);
  }

  /** `GET /v1/ready`: resolves when the daemon serves data; NOT_READY (503) otherwise, after retries. */
  ready(call?: CallOptions): Promise<Ready> {
    return this.t.call({ method: 'GET', path: '/v1/ready', safety: 'idempotent' }, readySchema, call);
  }

  /** Poll `GET /v1/ready` until the daemon is ready (or throw the last error after `timeoutMs`). */
  async waitUntilReady(
    opts: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
  ): Promise<Ready> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      try {
        return await this.ready({ retry: false, signal: opts.signal, timeoutMs: 5000 });
      } catch (err) {
        const transient =
          err instanceof ConnectionError || (err instanceof EpochgraphError && err.code === 'NOT_READY');
        if (!transient || Date.now() >= deadline) throw err;
      }
      await sleep(opts.intervalMs ?? 100, opts.signal);
    }
  }

  /** `GET /v1/epochs`: latest and oldest readable epochs and per-partition counts. */
  epochs(call?: CallOptions): Promise<EpochsInfo> {
    return this.t.call({ method: 'GET', path: '/v1/epochs', safety: 'idempotent' }, epochsSchema, call);
  }

  /** `GET /v1/epochs/:epoch`: one epoch's metadata (the newest sealed epoch at or before it). */
  epoch(at: At = {}, call?: CallOptions): Promise<EpochDetail> {
    return this.t.call(
      {
        method: 'GET',
        path: `/v1/epochs/${epochSegment(at)}`,
        query: { asOf: asOfQuery(at) },
        safety: 'idempotent',
      },
      epochDetailSchema,
      call,
    );
  }

  /**
   * `POST /v1/pins`: keep an epoch readable past retention for `ttlMs`. A write: retried only
   * when the server cannot have created it (see retry.ts).
   */
  createPin(opts: PinOptions, call?: CallOptions): Promise<PinInfo> {
    const body: { ttlMs: number; epoch?: number | 'latest' } = { ttlMs: opts.ttlMs };
    if (opts.epoch !== undefined) body.epoch = opts.epoch;
    return this.t.call({ method: 'POST', path: '/v1/pins', body, safety: 'write' }, pinSchema, call);
  }

  /** `DELETE /v1/pins/:id`. NOT_FOUND when there is no such pin (a retry that finds it gone succeeds). */
  deletePin(pin: string, call?: CallOptions): Promise<void> {
    return this.t.callNoContent(
      {
        method: 'DELETE',
        path: `/v1/pins/${encodeURIComponent(pin)}`,
        safety: 'idempotent',
        goneAfterRetry: true,
      },
      call,
    );
  }

  /**
   * Pin an epoch, run `fn(epoch, pin)` and delete the pin, whatever fn does. Every read inside
   * at `{ epoch }` sees the same snapshot, however long fn takes (within `ttlMs`).
   */
  async withPinnedEpoch<T>(
    fn: (epoch: number, pin: PinInfo) => Promise<T> | T,
    opts: PinOptions,
    call?: CallOptions,
  ): Promise<T> {
    const pin = await this.createPin(opts, call);
    let result: T;
    try {
      result = await fn(pin.epoch, pin);
    } catch (err) {
      // fn's error wins; the pin expires by its TTL if it cannot be deleted now.
      await this.releasePin(pin.pin, call).catch(() => undefined);
      throw err;
    }
    await this.releasePin(pin.pin, call);
    return result;
  }

  /** Delete a pin; one that expired already counts as released. */
  private async releasePin(pin: string, call: CallOptions | undefined): Promise<void> {
    try {
      await this.deletePin(pin, { retry: call?.retry });
    } catch (err) {
      if (!(err instanceof EpochgraphError && err.code === 'NOT_FOUND')) throw err;
    }
  }

  /**
   * `POST /v1/batches`: apply a batch atomically; resolves once it is durable and visible, with
   * its epoch. Retried only when the server cannot have applied it: the connection was refused
   * before sending, or 503 NOT_READY. Any other failure is thrown (ConnectionError tells
   * whether it may have been applied).
   */
  submitBatch(batch: BatchInput, call?: CallOptions): Promise<BatchAck> {
    return this.t.call(
      { method: 'POST', path: '/v1/batches', body: batch, safety: 'write' },
      batchAckSchema,
      call,
    );
  }

  /** `GET /v1/snapshots/:epoch/vertices/:id`. A string of digits is sent as a string id. */
  vertex(id: ExternalId, at: At = {}, call?: CallOptions): Promise<Vertex> {
    const { segment, idType } = idSegment(id);
    return this.t.call(
      {
        method: 'GET',
        path: `/v1/snapshots/${epochSegment(at)}/vertices/${segment}`,
        query: { asOf: asOfQuery(at), idType },
        safety: 'idempotent',
      },
      vertexSchema,
      call,
    );
  }

  /** One page of `GET /v1/snapshots/:epoch/vertices/:id/neighbors`. */
  async neighbors(id: ExternalId, opts: NeighborOptions = {}, call?: CallOptions): Promise<NeighborPage> {
    const { segment, idType } = idSegment(id);
    const page = await this.t.call(
      {
        method: 'GET',
        path: `/v1/snapshots/${epochSegment(opts)}/vertices/${segment}/neighbors`,
        query: {
          asOf: asOfQuery(opts),
          idType,
          direction: opts.direction,
          label: opts.label,
          limit: opts.limit,
          cursor: opts.cursor,
          props: opts.props === undefined ? undefined : opts.props.join(','),
        },
        safety: 'idempotent',
      },
      neighborPageSchema,
      call,
    );
    const out: NeighborPage = {
      epoch: page.epoch,
      id: page.id,
      neighbors: page.neighbors instanceof Float64Array ? Array.from(page.neighbors) : page.neighbors,
    };
    if (page.directions !== undefined) out.directions = page.directions;
    if (page.props !== undefined) out.props = page.props;
    if (page.nextCursor !== undefined) out.nextCursor = page.nextCursor;
    return out;
  }

  /**
   * All pages of a vertex's neighbours, following `nextCursor`. The first page fixes the epoch
   * (a `latest` or `asOf` read resolves once), so every page comes from one snapshot; for a
   * scan longer than the retention window, run it inside {@link withPinnedEpoch}.
   */
  async *neighborPages(
    id: ExternalId,
    opts: NeighborOptions = {},
    call?: CallOptions,
  ): AsyncGenerator<NeighborPage, void, undefined> {
    let at: At = { epoch: opts.epoch, asOf: opts.asOf };
    let cursor = opts.cursor;
    for (;;) {
      const page = await this.neighbors(id, { ...opts, ...at, cursor }, call);
      yield page;
      if (page.nextCursor === undefined) return;
      cursor = page.nextCursor;
      at = { epoch: page.epoch };
    }
  }

  /** `POST /v1/snapshots/:epoch/neighbors`: CSR rows of many vertices, in request order. */
  batchNeighbors(
    ids: ArrayLike<ExternalId>,
    opts: BatchNeighborOptions = {},
    call?: CallOptions,
  ): Promise<NeighborRows> {
    const body: Record<string, unknown> = { ids: idsBody(ids) };
    if (opts.direction !== undefined) body.direction = opts.direction;
    if (opts.label !== undefined) body.label = opts.label;
    return this.t.call(
      {
        method: 'POST',
        path: `/v1/snapshots/${epochSegment(opts)}/neighbors`,
        query: { asOf: asOfQuery(opts) },
        body,
        safety: 'idempotent',
      },
      neighborRowsSchema,
      call,
    );
  }

  /** `POST /v1/snapshots/:epoch/subgraph`: the k-hop neighbourhood of the seeds. */
  subgraph(seeds: ArrayLike<ExternalId>, opts: SubgraphOptions = {}, call?: CallOptions): Promise<Subgraph> {
    const body: Record<string, unknown> = { seeds: idsBody(seeds) };
    if (opts.hops !== undefined) body.hops = opts.hops;
    if (opts.direction !== undefined) body.direction = opts.direction;
    if (opts.maxVertices !== undefined) body.maxVertices = opts.maxVertices;
    return this.t.call(
      {
        method: 'POST',
        path: `/v1/snapshots/${epochSegment(opts)}/subgraph`,
        query: { asOf: asOfQuery(opts) },
        body,
        safety: 'idempotent',
      },
      subgraphSchema,
      call,
    );
  }

  /**
   * `GET /v1/snapshots/:epoch/partitions/:p/csr`: one partition's CSR. In msgpack the answer
   * is decoded while it streams in, straight into its typed arrays (the body is never held
   * whole beside them). Retried like any read, a connection lost mid-body included (the
   * export starts over).
   */
  partitionCsr(partition: number, opts: CsrOptions = {}, call?: CallOptions): Promise<PartitionCsr> {
    if (!Number.isSafeInteger(partition) || partition < 0)
      throw invalid(`partition ${partition} is not a partition number`);
    const req: RouteRequest = {
      method: 'GET',
      path: `/v1/snapshots/${epochSegment(opts)}/partitions/${partition}/csr`,
      query: { asOf: asOfQuery(opts), direction: opts.direction, label: opts.label },
      safety: 'idempotent',
    };
    return this.t.exchange(req, call ?? {}, async (res) => {
      const type = res.headers.get('content-type') ?? '';
      let body: unknown;
      if (type.includes('msgpack') && res.body !== null) body = await decodeMsgpackStream(res.body);
      else body = await decodeBody(res);
      return checkAnswer(req, partitionCsrSchema, body);
    });
  }

  /** `GET /v1/schema`: labels and their typed properties. */
  schema(call?: CallOptions): Promise<GraphSchema> {
    return this.t.call({ method: 'GET', path: '/v1/schema', safety: 'idempotent' }, schemaSchema, call);
  }

  /**
   * `POST /v1/snapshots/:epoch/algorithms/:name`: run an algorithm on a snapshot. A read:
   * retried on 503 (a full analytics queue answers 503 with Retry-After).
   */
  runAlgorithm<N extends AlgorithmName>(
    name: N,
    params: AlgorithmParamsByName[N],
    at: At = {},
    call?: CallOptions,
  ): Promise<AlgorithmResult> {
    if (!(ALGORITHM_NAMES as readonly string[]).includes(name)) {
      throw invalid(`unknown algorithm "${name}"; known: ${ALGORITHM_NAMES.join(', ')}`);
    }
    return this.t.call(
      {
        method: 'POST',
        path: `/v1/snapshots/${epochSegment(at)}/algorithms/${name}`,
        query: { asOf: asOfQuery(at) },
        body: params,
        safety: 'idempotent',
      },
      algorithmResultSchema,
      call,
    );
  }
}
