/**
 * The partition workers' messages to the main thread (partitions/protocol.ts checkWorkerMessage):
 * replies, logs and checkpoint reports pass; anything else is refused with a clear error, so a
 * malformed message cannot reach a pending request or the metrics.
 */
import { describe, expect, it } from 'vitest';
import { checkWorkerMessage } from '../../partitions/protocol.js';

const report = { t: 'checkpoint', ok: true, epoch: 12, bytes: 4096, ms: 35, encodeMs: 4 };

describe('checkWorkerMessage', () => {
  it('passes replies, logs and checkpoint reports (failed ones too)', () => {
    expect(checkWorkerMessage({ t: 'reply', id: 3, ok: true, value: { epoch: 1 } })).toMatchObject({ id: 3 });
    expect(checkWorkerMessage({ t: 'log', level: 'warn', message: 'slow fsync' })).toMatchObject({
      level: 'warn',
    });
    expect(checkWorkerMessage(report)).toEqual(report);
    const failed = { ...report, ok: false, bytes: 0 };
    expect(checkWorkerMessage(failed)).toEqual(failed);
  });

  it.each([
    ['a missing result', { ...report, ok: undefined }],
    ['negative bytes', { ...report, bytes: -1 }],
    ['a non-numeric epoch', { ...report, epoch: '12' }],
    ['an infinite time', { ...report, ms: Number.POSITIVE_INFINITY }],
    ['a missing encoding time', { t: 'checkpoint', ok: true, epoch: 1, bytes: 1, ms: 1 }],
    ['an unknown type', { t: 'progress', ok: true }],
  ])('refuses a message with %s', (_, m) => {
    expect(() => checkWorkerMessage(m)).toThrow(/malformed message/);
  });
});
