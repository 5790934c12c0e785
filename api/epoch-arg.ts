/**
 * Resolving the epoch of a read: `:epoch` is a number or `latest`, and `?asOf=` picks the
 * newest epoch sealed at or before a time. The answer names the sealed epoch whose state is
 * served (the newest sealed epoch ≤ the one asked for; DESIGN §4), so `epoch` in a body and
 * `X-Epoch` are always real seal numbers a client can read again.
 */
import type { EpochInfo } from '../partitions/epoch-ledger.js';
import { invalid } from '../src/errors.js';
import type { GraphSnapshot } from '../src/storage/graph-snapshot.js';
import type { ApiMachine } from './deps.js';

/** The metadata of the epoch a request names. Throws EPOCH_GONE, EPOCH_NOT_FOUND, INVALID_REQUEST. */
export function resolveEpoch(machine: ApiMachine, epoch: string, asOf: string | undefined): EpochInfo {
  if (asOf !== undefined) {
    if (epoch !== 'latest') throw invalid(`give either a numeric epoch (${epoch}) or asOf, not both`);
    const t = Date.parse(asOf);
    if (Number.isNaN(t)) throw invalid(`asOf "${asOf}" is not a date-time`);
    return machine.epochAsOf(t);
  }
  if (epoch === 'latest') return machine.epochInfo(machine.latestEpoch);
  const n = Number(epoch);
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`epoch "${epoch}" is not an epoch number`);
  return machine.epochInfo(n);
}

/** Open the snapshot a request names; the caller closes it. */
export function openSnapshot(machine: ApiMachine, epoch: string, asOf: string | undefined): GraphSnapshot {
  return machine.snapshot(resolveEpoch(machine, epoch, asOf).epoch);
}
