/** Awaiting a promise that must reject with a typed error. */
import { expect } from 'vitest';
import { EpochgraphError } from '../../src/errors.js';

/** Awaits a rejection and returns it as an EpochgraphError (fails the test if it resolves or throws another kind). */
export async function rejection(p: Promise<unknown>): Promise<EpochgraphError> {
  const outcome = await p.then(
    () => ({ rejected: false as const }),
    (err: unknown) => ({ rejected: true as const, err }),
  );
  if (!outcome.rejected) throw new Error('expected a rejection');
  expect(outcome.err).toBeInstanceOf(EpochgraphError);
  return outcome.err as EpochgraphError;
}
