/**
 * The main thread's handle on one partition worker: typed requests with one reply each,
 * errors rebuilt as EpochgraphError, and a worker that dies failing every pending request
 * (and every later one) instead of leaving callers waiting.
 */
import { Worker } from 'node:worker_threads';
import { EpochgraphError, errorFromData } from '../src/errors.js';
import {
  type CheckpointReport,
  checkWorkerMessage,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResults,
} from './protocol.js';
import { workerUrl } from './worker-url.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: EpochgraphError) => void };
type RequestBody<T extends WorkerRequest['t']> = Omit<Extract<WorkerRequest, { t: T }>, 'id' | 't'>;

export interface HandleLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export class PartitionHandle {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: EpochgraphError | null = null;
  /** Requests sent and not yet answered (backpressure). */
  get inFlight(): number {
    return this.pending.size;
  }

  constructor(
    readonly init: WorkerInit,
    private readonly logger: HandleLogger,
    private readonly onFailure: (p: number, err: EpochgraphError) => void,
    private readonly onCheckpoint: (p: number, report: CheckpointReport) => void,
  ) {
    this.worker = new Worker(workerUrl('partition-worker'), {
      workerData: init,
      name: `partition-${init.partition}`,
    });
    this.worker.on('message', (raw: unknown) => this.onMessage(raw));
    this.worker.on('error', (err) =>
      this.fail(
        new EpochgraphError('INTERNAL', `partition ${init.partition} worker crashed: ${err.message}`),
      ),
    );
    this.worker.on('exit', (code) => {
      if (this.failure === null)
        this.fail(
          new EpochgraphError('INTERNAL', `partition ${init.partition} worker exited (code ${code})`),
        );
    });
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get failed(): EpochgraphError | null {
    return this.failure;
  }

  request<T extends WorkerRequest['t']>(t: T, body: RequestBody<T>): Promise<WorkerResults[T]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<WorkerResults[T]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...body, t, id });
    });
  }

  private onMessage(raw: unknown): void {
    let m: ReturnType<typeof checkWorkerMessage>;
    try {
      m = checkWorkerMessage(raw);
    } catch (err) {
      this.logger.error((err as Error).message);
      return;
    }
    if (m.t === 'log') {
      this.logger[m.level](m.message, m.fields);
      return;
    }
    if (m.t === 'checkpoint') {
      this.onCheckpoint(this.init.partition, m);
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(errorFromData(m.error));
  }

  private fail(err: EpochgraphError): void {
    if (this.failure !== null) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.onFailure(this.init.partition, err);
  }

  async terminate(): Promise<void> {
    this.failure ??= new EpochgraphError('NOT_READY', `partition ${this.init.partition} is shut down`);
    await this.worker.terminate();
  }
}
