/** Awaiting a promise that must reject, or running a function that must throw, with a typed error. */
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

/** Runs a function that must throw a typed error and returns it. */
export function failure(fn: () => unknown): EpochgraphError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EpochgraphError);
    return err as EpochgraphError;
  }
  throw new Error('expected an error');
}
