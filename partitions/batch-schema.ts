/**
 * The machine-wide schema check of a batch, before any of it is posted (P > 1): a partition
 * that refused its part after others applied theirs would break atomicity, so the whole batch
 * is checked here against the merged schema first.
 *
 * A vertex upsert without a label is checked against the vertex's current label. Readers can
 * tell it only for visible epochs, so labels given in epochs not yet visible are remembered
 * here (by id) until their epoch becomes visible.
 */
import type { ExternalId } from '../src/model/ids.js';
import type { Batch } from '../src/model/ops.js';
import { DEFAULT_EDGE_LABEL, DEFAULT_VERTEX_LABEL, type Props, SchemaModel } from '../src/model/schema.js';

export class BatchSchemaGuard {
  readonly schema = new SchemaModel();
  /** Labels given in epochs not yet visible: id key -> label and epoch. */
  private readonly recent = new Map<string, { label: string; epoch: number }>();

  /** @param visibleLabel the label of a vertex at the visible epoch (undefined: no vertex). */
  constructor(private readonly visibleLabel: (id: ExternalId) => string | undefined) {}

  /** Check the whole batch; merge what it adds to the schema. Throws SCHEMA_CONFLICT. */
  check(batch: Batch): void {
    const pending = new SchemaModel();
    const labelsInBatch = new Map<string, string>();
    for (let i = 0; i < batch.ops.length; i++) {
      const op = batch.ops[i];
      if (op.op === 'upsertVertex') {
        const k = keyOf(op.id);
        const label = op.label ?? labelsInBatch.get(k) ?? this.currentLabel(op.id) ?? DEFAULT_VERTEX_LABEL;
        labelsInBatch.set(k, label);
        this.schema.check('vertex', label, op.props, pending, `ops[${i}]`);
      } else if (op.op === 'upsertEdge') {
        this.schema.check('edge', op.label ?? DEFAULT_EDGE_LABEL, op.props, pending, `ops[${i}]`);
      } else if (op.op === 'deleteVertex') {
        labelsInBatch.set(keyOf(op.id), DEFAULT_VERTEX_LABEL);
      }
    }
    const e = batch.edges;
    if (e?.props !== undefined && e.src.length > 0) {
      const sample: Props = {};
      for (const [name, col] of Object.entries(e.props)) sample[name] = col[0];
      this.schema.check('edge', e.label ?? DEFAULT_EDGE_LABEL, sample, pending, 'edges');
    }
    this.schema.merge(pending);
  }

  /** Remember the labels the batch gives, for the epoch it lands in. */
  remember(batch: Batch, epoch: number): void {
    for (const op of batch.ops) {
      if (op.op === 'upsertVertex' && op.label !== undefined)
        this.recent.set(keyOf(op.id), { label: op.label, epoch });
      else if (op.op === 'deleteVertex')
        this.recent.set(keyOf(op.id), { label: DEFAULT_VERTEX_LABEL, epoch });
    }
  }

  /** Epochs up to `epoch` are visible: readers now tell their labels. */
  visibleThrough(epoch: number): void {
    for (const [k, v] of this.recent) if (v.epoch <= epoch) this.recent.delete(k);
  }

  private currentLabel(id: ExternalId): string | undefined {
    return this.recent.get(keyOf(id))?.label ?? this.visibleLabel(id);
  }
}

function keyOf(id: ExternalId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}
