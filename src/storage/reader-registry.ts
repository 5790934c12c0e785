/**
 * The reader registry: slots in shared memory through which readers in any thread tell the
 * writer which epoch they read and since when, so that no memory is freed while a reader can
 * still reach it.
 *
 * Each slot holds [snap + 1, start + 1, owner + 1]: the snapshot epoch being read, the
 * published epoch when the read began (its grace stamp), and the owning thread.
 *
 * Protocol (a Dekker-style handshake; every access below is sequentially consistent):
 *   reader: claim slot (compareExchange snap) -> store start -> re-check published ->
 *           load OLDEST; refuse if snap < OLDEST.
 *   writer: store OLDEST -> load every slot; free only memory that every registered reader
 *           is past.
 * In the single total order of these operations, either the writer's slot scan comes after
 * the reader's claim (so the writer sees the reader and keeps its epoch), or the reader's load
 * of OLDEST comes after the writer's store (so the reader sees the new floor and refuses).
 */
import { EpochgraphError, epochGone, epochNotFound } from '../errors.js';
import * as layout from './layout.js';

// Module-local copies of imported constants (see layout.ts: V8 folds these, not imports).
const {
  CTL_OLDEST,
  CTL_PUBLISHED,
  CTL_REGISTRY,
  REG_OWNER,
  REG_SNAP,
  REG_START,
  REGISTRY_SLOTS,
  REGISTRY_STRIDE,
} = layout;

let nextHint = 0;

/**
 * Register a read of `epoch` (or the latest epoch when undefined). Returns the slot and the
 * epoch actually registered. Throws EPOCH_GONE / EPOCH_NOT_FOUND.
 */
export function beginRead(
  ctl: Uint32Array,
  epoch: number | undefined,
  owner: number,
): { slot: number; epoch: number } {
  // For "latest", the published epoch read here is ≥ OLDEST at this moment; the re-check
  // below catches a floor that moved past it in between.
  const snap = epoch ?? Atomics.load(ctl, CTL_PUBLISHED);
  if (!Number.isInteger(snap) || snap < 0 || snap > 0xfffffffe) {
    throw new EpochgraphError('INVALID_REQUEST', `epoch ${epoch} is not a valid epoch number`);
  }
  let slot = -1;
  for (let i = 0; i < REGISTRY_SLOTS; i++) {
    const s = (nextHint + i) % REGISTRY_SLOTS;
    // Claim: compareExchange is sequentially consistent, so the claim is ordered before our
    // load of OLDEST below (the reader half of the handshake).
    if (Atomics.compareExchange(ctl, CTL_REGISTRY + s * REGISTRY_STRIDE + REG_SNAP, 0, snap + 1) === 0) {
      slot = s;
      nextHint = (s + 1) % REGISTRY_SLOTS;
      break;
    }
  }
  if (slot < 0) {
    throw new EpochgraphError('NOT_READY', `all ${REGISTRY_SLOTS} reader slots are busy; retry shortly`);
  }
  const base = CTL_REGISTRY + slot * REGISTRY_STRIDE;
  Atomics.store(ctl, base + REG_OWNER, owner + 1);
  // Grace stamp: the published epoch at the start of the read. The writer frees unlinked
  // memory only once every registered reader's stamp is newer than the unlink, so the stamp
  // must be stored before we read any record; re-checking PUBLISHED after the store makes
  // the stamp a lower bound even if a seal happened in between.
  let published: number;
  for (;;) {
    published = Atomics.load(ctl, CTL_PUBLISHED);
    Atomics.store(ctl, base + REG_START, published + 1);
    if (Atomics.load(ctl, CTL_PUBLISHED) === published) break;
  }
  const oldest = Atomics.load(ctl, CTL_OLDEST);
  if (snap < oldest) {
    endRead(ctl, slot);
    throw epochGone(snap, oldest);
  }
  if (snap > published) {
    endRead(ctl, slot);
    throw epochNotFound(snap, published);
  }
  return { slot, epoch: snap };
}

/** Release a registry slot. The store is a release: the reads before it are done. */
export function endRead(ctl: Uint32Array, slot: number): void {
  const base = CTL_REGISTRY + slot * REGISTRY_STRIDE;
  Atomics.store(ctl, base + REG_START, 0);
  Atomics.store(ctl, base + REG_OWNER, 0);
  Atomics.store(ctl, base + REG_SNAP, 0);
}

/**
 * Writer: the minimum snapshot epoch and minimum grace stamp of registered readers
 * (Infinity when none). A slot whose start is not yet stored counts as start 0.
 */
export function scanReaders(ctl: Uint32Array): { minSnap: number; minStart: number; active: number } {
  let minSnap = Number.POSITIVE_INFINITY;
  let minStart = Number.POSITIVE_INFINITY;
  let active = 0;
  for (let s = 0; s < REGISTRY_SLOTS; s++) {
    const base = CTL_REGISTRY + s * REGISTRY_STRIDE;
    const snap = Atomics.load(ctl, base + REG_SNAP);
    if (snap === 0) continue;
    active++;
    const start = Atomics.load(ctl, base + REG_START);
    if (snap - 1 < minSnap) minSnap = snap - 1;
    const st = start === 0 ? 0 : start - 1;
    if (st < minStart) minStart = st;
  }
  return { minSnap, minStart, active };
}

/** Release every slot owned by a thread that has exited (its reads can never finish). */
export function releaseOwner(ctl: Uint32Array, owner: number): number {
  let n = 0;
  for (let s = 0; s < REGISTRY_SLOTS; s++) {
    const base = CTL_REGISTRY + s * REGISTRY_STRIDE;
    if (Atomics.load(ctl, base + REG_OWNER) === owner + 1) {
      endRead(ctl, s);
      n++;
    }
  }
  return n;
}
