/**
 * Posting one batch to the partition workers, for a Machine that holds its send lock (so all
 * partitions see batches in one order). The batch is checked against the schema whole, split
 * by owner (batch-router.ts) and posted into the open epoch:
 * - A batch without vertex deletions (or on one partition) is one segment, posted in this
 *   turn; its replies are awaited outside the lock.
 * - Otherwise segments go one at a time, each carrying the edge deletions that the previous
 *   one cascaded to other partitions, all in the open epoch.
 * The answer waits for the epoch's seal in SealWaiters. If some partitions applied their part
 * and another refused, the machine can no longer promise atomicity: `fail` stops its writes.
 */
import { EpochgraphError } from '../src/errors.js';
import { type ExternalId, partitionOf } from '../src/model/ids.js';
import {
  type AppliedCounts,
  addCounts,
  type Batch,
  type DeleteEdgeOp,
  emptyCounts,
} from '../src/model/ops.js';
import { type Route, routeBatch, type SubBatch } from './batch-router.js';
import type { BatchSchemaGuard } from './batch-schema.js';
import type { PartitionHandle } from './partition-handle.js';
import type { SealWaiters, SubmitResult } from './seal-waiters.js';

export interface BatchPosterDeps {
  /** The partition workers, by partition (filled by the machine's recovery). */
  readonly handles: readonly PartitionHandle[];
  readonly partitions: number;
  readonly guard: BatchSchemaGuard;
  readonly waiters: SealWaiters;
  /** The epoch batches land in now. */
  openEpoch(): number;
  /** A segment is being posted to these partitions: the open epoch has changes. */
  posting(partitions: readonly number[]): void;
  /** Stop the machine's writes. */
  fail(err: EpochgraphError): void;
}

type SegmentReply = { applied: AppliedCounts; cascades: DeleteEdgeOp[] };

export class BatchPoster {
  constructor(private readonly deps: BatchPosterDeps) {}

  /** Post a batch (the caller holds the send lock); returns the acknowledgement promise. */
  async post(batch: Batch): Promise<{ ack: Promise<SubmitResult> }> {
    const { partitions, guard, waiters } = this.deps;
    if (partitions > 1) guard.check(batch);
    const route: Route = routeBatch(batch, partitions);
    const applied = emptyCounts();
    if (partitions > 1) guard.remember(batch, this.deps.openEpoch());
    if (route.length === 1 && !(partitions > 1 && batch.ops.some((o) => o.op === 'deleteVertex'))) {
      return { ack: this.ackLater(this.postSegment(route[0]), applied) };
    }
    let cascades = new Map<number, DeleteEdgeOp[]>();
    for (let k = 0; k < route.length || cascades.size > 0; k++) {
      const seg: Map<number, SubBatch> = k < route.length ? route[k] : new Map();
      for (const [p, ops] of cascades) {
        const part = seg.get(p);
        if (part === undefined) seg.set(p, { ops });
        else part.ops = [...ops, ...part.ops];
      }
      cascades = new Map();
      if (seg.size === 0) continue;
      const posted = this.postSegment(seg);
      const replies = await this.settle(posted.map((x) => x.reply));
      replies.forEach((r, i) => {
        addCounts(applied, r.applied);
        const from = posted[i].partition;
        for (const c of r.cascades) {
          // The replying partition removed its half; the other half lives at the owner of
          // the endpoint it does not own.
          const ps = this.owner(c.src);
          const target = ps === from ? this.owner(c.dst) : ps;
          let list = cascades.get(target);
          if (list === undefined) cascades.set(target, (list = []));
          list.push(c);
        }
      });
    }
    return { ack: waiters.wait(this.deps.openEpoch(), applied) };
  }

  private postSegment(seg: Map<number, SubBatch>): { partition: number; reply: Promise<SegmentReply> }[] {
    this.deps.posting([...seg.keys()]);
    return [...seg].map(([p, sub]) => {
      const body = sub.edges === undefined ? { ops: sub.ops } : { ops: sub.ops, edges: sub.edges };
      return { partition: p, reply: this.deps.handles[p].request('apply', body) };
    });
  }

  private owner(id: ExternalId): number {
    return partitionOf(id, this.deps.partitions);
  }

  /** Wait for every reply; if a partition refused, the batch fails (see partialFailure). */
  private async settle<T>(posted: Promise<T>[]): Promise<T[]> {
    const results = await Promise.allSettled(posted);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed !== undefined) throw this.partialFailure(failed.reason, results);
    return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  }

  private partialFailure(reason: unknown, results: PromiseSettledResult<unknown>[]): EpochgraphError {
    const err = reason instanceof EpochgraphError ? reason : new EpochgraphError('INTERNAL', String(reason));
    if (results.some((r) => r.status === 'fulfilled')) {
      // Some partitions applied their part: the machine can no longer promise atomicity, so
      // it stops taking writes rather than acknowledge anything on top of a half batch.
      this.deps.fail(
        new EpochgraphError('INTERNAL', `a batch was applied on some partitions only: ${err.message}`),
      );
    }
    return err;
  }

  private ackLater(
    posted: { reply: Promise<{ applied: AppliedCounts }> }[],
    applied: AppliedCounts,
  ): Promise<SubmitResult> {
    const epoch = this.deps.openEpoch();
    const { waiters } = this.deps;
    const ack = waiters.wait(epoch, applied);
    return this.settle(posted.map((x) => x.reply)).then(
      (replies) => {
        for (const r of replies) addCounts(applied, r.applied);
        return ack;
      },
      (err) => {
        waiters.drop(epoch, applied);
        throw err;
      },
    );
  }
}
