/**
 * One publish transaction: the blob keys of some partitions' new epochs, and each partition's
 * `gart_latest_epoch_p{p}` key moved forward to its epoch, never back.
 *
 * Epochs compare as numbers while etcd compares values as bytes ("9" > "10"). So the txn
 * compares the latest key's mod revision with the one last seen, and writes the key only when
 * our epoch is larger than the value seen at that revision. If another writer got there first
 * the compare fails; the failure branch reads the keys in the same round trip, and we decide
 * again. In steady state the cached revision is right, so a publish is one round trip.
 */
import { EpochgraphError } from '../src/errors.js';
import type { MetaKeys } from './keys.js';
import type { KvBackend, KvEntry, KvWrite } from './kv-backend.js';
import type { MetaLogger } from './logger.js';
import { blobRecordOf, type PartitionEpoch } from './publish-state.js';
import { parseEpochValue } from './records.js';

/** CAS rounds before a publish attempt counts as failed (and is retried after a backoff). */
const MAX_CAS_ROUNDS = 8;

/** A partition's new epoch, as one machine publishes it. */
export interface EpochWrite {
  readonly machine: number;
  readonly fnum: number;
  readonly endpoint: string;
  readonly entry: PartitionEpoch;
}

/** Cached view of one `gart_latest_epoch_p{p}` key: its mod revision and parsed value. */
interface LatestSeen {
  readonly modRevision: number;
  readonly epoch: number | null;
}

export class LatestEpochCas {
  private readonly latestSeen = new Map<number, LatestSeen>();
  /** Transactions whose compare failed (another writer moved a latest key). */
  conflicts = 0;

  constructor(
    private readonly kv: KvBackend,
    private readonly keys: MetaKeys,
    private readonly logger: MetaLogger,
  ) {}

  /** Write the chunk's blobs and latest keys (one partition at most once); throws when it cannot. */
  async write(chunk: readonly EpochWrite[]): Promise<void> {
    const latestKeys = chunk.map((p) => this.keys.latestEpoch(p.entry.partition));
    for (let round = 1; round <= MAX_CAS_ROUNDS; round++) {
      const writes: KvWrite[] = [];
      const advanced: EpochWrite[] = [];
      for (const p of chunk) {
        const { machine, fnum, endpoint, entry } = p;
        const blob = blobRecordOf(machine, fnum, endpoint, entry);
        writes.push({
          kind: 'put',
          key: this.keys.blob(machine, entry.partition, entry.epoch),
          value: JSON.stringify(blob),
        });
        const seen = this.latestSeen.get(entry.partition)?.epoch ?? null;
        if (seen === null || seen < entry.epoch) {
          writes.push({
            kind: 'put',
            key: this.keys.latestEpoch(entry.partition),
            value: String(entry.epoch),
          });
          advanced.push(p);
        }
      }
      const res = await this.kv.txn({
        compares: chunk.map((p, i) => ({
          key: latestKeys[i],
          modRevision: this.latestSeen.get(p.entry.partition)?.modRevision ?? 0,
        })),
        writes,
        readsOnFailure: latestKeys,
      });
      if (res.succeeded) {
        for (const p of advanced) {
          this.latestSeen.set(p.entry.partition, { modRevision: res.revision, epoch: p.entry.epoch });
        }
        return;
      }
      this.conflicts++;
      this.refresh(chunk, latestKeys, res.reads);
    }
    throw new EpochgraphError(
      'INTERNAL',
      `the latest-epoch keys kept changing under ${MAX_CAS_ROUNDS} compare-and-swap rounds`,
    );
  }

  private refresh(chunk: readonly EpochWrite[], keys: readonly string[], reads: readonly KvEntry[]): void {
    const byKey = new Map(reads.map((r) => [r.key, r]));
    chunk.forEach((p, i) => {
      const kv = byKey.get(keys[i]);
      if (kv === undefined) {
        this.latestSeen.set(p.entry.partition, { modRevision: 0, epoch: null });
        return;
      }
      const epoch = parseEpochValue(kv.value);
      if (epoch === null) {
        this.logger.warn('overwriting a latest-epoch key that does not hold a decimal epoch', {
          key: kv.key,
          value: kv.value.slice(0, 100),
        });
      }
      this.latestSeen.set(p.entry.partition, { modRevision: kv.modRevision, epoch });
    });
  }
}
