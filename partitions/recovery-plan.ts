/**
 * Which logged epochs recovery may replay. An epoch is committed when every partition that
 * logged records in it (its participants, written in each group's epoch record) holds it:
 * durably in its WAL, or inside its checkpoint. An epoch missing from one participant was
 * never made visible or acknowledged (a crash cut that participant's fsync), so replaying it
 * elsewhere would expose half a batch: it is skipped everywhere.
 *
 * Numbering continues after the highest epoch any partition logged or checkpointed, so an
 * epoch number is never reused, even a skipped one.
 */
import { type EpochInfo, epochInfoOf, type PartitionCounts } from './epoch-ledger.js';
import type { ReplayedEpoch } from './protocol.js';

export interface PartitionScan {
  checkpointEpoch: number;
  groups: readonly (readonly [number, readonly number[]])[];
}

export interface RecoveryPlan {
  /** Per partition: logged epochs not to replay. */
  skip: number[][];
  /** The epoch every partition is aligned to after replay (the machine's visible epoch). */
  alignEpoch: number;
}

export function planRecovery(scans: readonly PartitionScan[]): RecoveryPlan {
  const has = scans.map((s) => new Set(s.groups.map(([e]) => e)));
  const holds = (q: number, e: number) =>
    q >= 0 && q < scans.length && (e <= scans[q].checkpointEpoch || has[q].has(e));
  let alignEpoch = 0;
  const skip = scans.map((s) => {
    alignEpoch = Math.max(alignEpoch, s.checkpointEpoch);
    const out: number[] = [];
    for (const [e, participants] of s.groups) {
      alignEpoch = Math.max(alignEpoch, e);
      if (!participants.every((q) => holds(q, e))) out.push(e);
    }
    return out;
  });
  return { skip, alignEpoch };
}

/** What one partition replayed: its counts now, and every epoch it sealed in the replay. */
export interface PartitionReplay {
  vertices: number;
  edges: number;
  epochs: readonly ReplayedEpoch[];
}

/**
 * The ledger after recovery. Every partition sealed the align epoch (`base`, with the
 * partitions' current counts). Epochs logged by only some partitions are complete only at the
 * align epoch; the ones every partition replayed are exact and stay readable (`exact`, in
 * epoch order: time travel across restarts).
 */
export function recoveredEpochs(
  replays: readonly PartitionReplay[],
  alignEpoch: number,
): { exact: EpochInfo[]; base: EpochInfo } {
  const byEpoch = new Map<number, { sealedAtMs: number; partitions: PartitionCounts[] }>();
  replays.forEach((r, p) => {
    for (const e of r.epochs) {
      let seen = byEpoch.get(e.epoch);
      if (seen === undefined) {
        seen = { sealedAtMs: e.sealedAtMs, partitions: [] };
        byEpoch.set(e.epoch, seen);
      }
      seen.partitions.push({ partition: p, vertices: e.vertices, edges: e.edges });
    }
  });
  const counts = replays.map((r, p) => ({ partition: p, vertices: r.vertices, edges: r.edges }));
  const base = epochInfoOf(alignEpoch, byEpoch.get(alignEpoch)?.sealedAtMs ?? Date.now(), counts);
  const exact = [...byEpoch]
    .filter(([epoch, seen]) => seen.partitions.length === replays.length && epoch < alignEpoch)
    .map(([epoch, seen]) => epochInfoOf(epoch, seen.sealedAtMs, seen.partitions))
    .sort((a, b) => a.epoch - b.epoch);
  return { exact, base };
}
