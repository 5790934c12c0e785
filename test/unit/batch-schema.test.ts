/**
 * The machine's whole-batch schema check: conflicts anywhere in a batch are refused before
 * anything is posted, and an unlabelled vertex upsert is checked against the label the vertex
 * has — given in a not yet visible epoch (remembered) or at the visible epoch (asked).
 */
import { describe, expect, it } from 'vitest';
import { BatchSchemaGuard } from '../../partitions/batch-schema.js';
import type { ExternalId } from '../../src/model/ids.js';
import type { Batch } from '../../src/model/ops.js';

describe('BatchSchemaGuard', () => {
  it('refuses a conflicting batch whole and keeps the schema as it was', () => {
    const g = new BatchSchemaGuard(() => undefined);
    g.check({ ops: [{ op: 'upsertEdge', src: 1, dst: 2, props: { w: 1 } }] });
    const bad: Batch = {
      ops: [
        { op: 'upsertVertex', id: 3, props: { name: 'c' } },
        { op: 'upsertEdge', src: 1, dst: 3, props: { w: 'heavy' } },
      ],
    };
    expect(() => g.check(bad)).toThrow(expect.objectContaining({ code: 'SCHEMA_CONFLICT' }));
    // Nothing of the refused batch was merged: `name` may still take a number.
    expect(() => g.check({ ops: [{ op: 'upsertVertex', id: 4, props: { name: 5 } }] })).not.toThrow();
  });

  it('checks an unlabelled upsert against a label remembered until its epoch is visible', () => {
    const visible = new Map<ExternalId, string>();
    const g = new BatchSchemaGuard((id) => visible.get(id));
    g.check({ ops: [{ op: 'upsertVertex', id: 'p1', label: 'person', props: { age: 30 } }] });
    g.remember({ ops: [{ op: 'upsertVertex', id: 'p1', label: 'person', props: { age: 30 } }] }, 7);
    const unlabelled: Batch = { ops: [{ op: 'upsertVertex', id: 'p1', props: { age: 'old' } }] };
    expect(() => g.check(unlabelled)).toThrow(expect.objectContaining({ code: 'SCHEMA_CONFLICT' }));
    // Epoch 7 becomes visible: the label now comes from the readers.
    g.visibleThrough(7);
    visible.set('p1', 'person');
    expect(() => g.check(unlabelled)).toThrow(expect.objectContaining({ code: 'SCHEMA_CONFLICT' }));
    // Deleted in a later epoch: a re-created vertex starts over with the default label.
    g.remember({ ops: [{ op: 'deleteVertex', id: 'p1' }] }, 8);
    expect(() => g.check(unlabelled)).not.toThrow();
  });
});
