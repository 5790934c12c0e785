/**
 * A machine's start: one partition worker per partition, then recovery. Every worker scans
 * its data (checkpoint and WAL); recovery-plan.ts decides which logged epochs may be replayed
 * (only those every participant holds), and every worker replays up to one common epoch. The
 * recovered epochs go into the machine's ledger.
 */

import { DEFAULT_CHECKPOINT_WAL_BYTES } from '../src/config.js';
import type { EpochgraphError } from '../src/errors.js';
import { SchemaModel } from '../src/model/schema.js';
import { PartitionReader, type StoreDescriptor } from '../src/storage/index.js';
import { partitionPaths } from './data-dir.js';
import type { EpochLedger } from './epoch-ledger.js';
import type { MachineOptions } from './machine.js';
import { type HandleLogger, PartitionHandle } from './partition-handle.js';
import type { CheckpointReport, ReplayResult } from './protocol.js';
import { planRecovery, recoveredEpochs } from './recovery-plan.js';

/**
 * Checkpoint policy defaults (see checkpointDueBytes in partition-worker.ts): a checkpoint is
 * due after max(DEFAULT_CHECKPOINT_WAL_BYTES = 64 MiB, half the last checkpoint's size) of
 * WAL, so a crash replays at most that much log (up to 256 MiB before, the old fixed
 * threshold). A checkpoint costs its partition's worker the time to encode it (now ~0.5 s
 * per 100 MB under the api bench's HTTP ingest; ~0.5 s per 20 MB when this floor was chosen)
 * and its writes, so the floor is a trade: a 10M-edge load (114 MiB of log per partition,
 * P = 2) takes one checkpoint per partition and recovers in 4.4-5.3 s right after it
 * (6.3-7.6 s before); a 32 MiB floor took three, recovered in 2.0-3.7 s and cost that load
 * ~12% (and a 5M-edge load ~20%) of its rate (scratch/ckpt-policy.mjs, scratch/durable.mjs).
 * The daemon's --checkpoint-wal-bytes sets the floor.
 */
export const DEFAULT_CHECKPOINT_WAL_RATIO = 0.5;

/**
 * Start the partition workers of a machine (their data dirs under opts.dataDir), each pushed
 * onto `handles` as it starts: if a later one fails to start, the caller can still stop the
 * earlier ones.
 */
export function startPartitions(
  opts: MachineOptions,
  log: HandleLogger,
  onFailure: (partition: number, err: EpochgraphError) => void,
  handles: PartitionHandle[],
  onCheckpoint: (partition: number, report: CheckpointReport) => void,
): void {
  for (let p = 0; p < opts.partitions; p++) {
    const paths = partitionPaths(opts.dataDir, p);
    const backup = opts.backupDir === undefined ? undefined : partitionPaths(opts.backupDir, p);
    handles.push(
      new PartitionHandle(
        {
          partition: p,
          partitions: opts.partitions,
          walDir: paths.wal,
          checkpointDir: paths.checkpoints,
          backupWalDir: backup?.wal,
          backupCheckpointDir: backup?.checkpoints,
          limits: opts.limits,
          walSegmentBytes: opts.walSegmentBytes,
          checkpointWalBytes: opts.checkpointWalBytes ?? DEFAULT_CHECKPOINT_WAL_BYTES,
          checkpointWalRatio: opts.checkpointWalRatio ?? DEFAULT_CHECKPOINT_WAL_RATIO,
          checkpointIntervalMs: opts.checkpointIntervalMs ?? 5 * 60_000,
        },
        log,
        onFailure,
        onCheckpoint,
      ),
    );
  }
}

export interface Recovered {
  /** A reader per partition. */
  readers: PartitionReader[];
  /** The epoch every partition was aligned to: the machine's visible epoch. */
  epoch: number;
  /** The oldest readable epoch: older ones are not kept by every partition. */
  floor: number;
  /** The union of the schemas the partitions published. */
  schema: SchemaModel;
}

/** Scan and replay every partition; the recovered epochs are recorded in the ledger. */
export async function recoverPartitions(
  handles: readonly PartitionHandle[],
  ledger: EpochLedger,
  log: HandleLogger,
): Promise<Recovered> {
  const scans = await Promise.all(handles.map((h) => h.request('scan', {})));
  const plan = planRecovery(scans);
  const replays = (await Promise.all(
    handles.map((h, p) => h.request('replay', { skip: plan.skip[p], alignEpoch: plan.alignEpoch })),
  )) as ReplayResult[];
  const readers = replays.map((r) => new PartitionReader(r.descriptor as StoreDescriptor));
  const { exact, base } = recoveredEpochs(replays, plan.alignEpoch);
  for (const i of exact) ledger.record(i);
  ledger.record(base);
  // Older epochs than what every partition kept are not readable: start the floor there.
  const oldestKept = Math.min(...readers.map((r) => r.oldest));
  const floor = Math.max(oldestKept, ledger.list()[0]?.epoch ?? 0);
  const schema = new SchemaModel();
  for (const r of readers) schema.merge(publishedSchema(r));
  const replayed = replays.reduce((a, r) => a + r.replayed, 0);
  const skipped = replays.reduce((a, r) => a + r.skipped, 0);
  log.info(`recovered at epoch ${plan.alignEpoch}: ${base.vertices} vertices, ${base.edges} edges`, {
    replayedGroups: replayed,
    skippedGroups: skipped,
  });
  return { readers, epoch: plan.alignEpoch, floor, schema };
}

/** The schema a partition published, as a model. */
export function publishedSchema(r: PartitionReader): SchemaModel {
  const s = r.schema;
  return SchemaModel.fromView({
    vertexLabels: s.vertexLabels.map((l) => ({ name: l.name, properties: l.props })),
    edgeLabels: s.edgeLabels.map((l) => ({ name: l.name, properties: l.props })),
  });
}
