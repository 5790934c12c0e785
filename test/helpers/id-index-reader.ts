/**
 * Reader thread of the id-index thread test: looks up ids the writer has published (ids[k]
 * for k below the published count) through its own views of the index, and counts any id not
 * found or found with another id's local id. The writer publishes a count only after every id
 * below it is in the index (Atomics.store after the inserts; Atomics.load here).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IdIndexViews } from '../../src/storage/id-index-views.js';
import { checkDescriptor } from '../../src/storage/shared-pool.js';

interface Data {
  descriptor: unknown;
  ids: SharedArrayBuffer;
  control: SharedArrayBuffer;
  seed: number;
}

/** control[0]: ids published; control[1]: 1 when the writer is done. */
const data = workerData as Data;
const views = new IdIndexViews(checkDescriptor(data.descriptor));
const ids = new Float64Array(data.ids);
const control = new Int32Array(data.control);
let seed = data.seed >>> 0;
const rand = (n: number) => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed % n;
};
let checks = 0;
const violations: string[] = [];
for (;;) {
  const done = Atomics.load(control, 1) === 1;
  const published = Atomics.load(control, 0);
  if (published > 0) {
    // The newest ids most of the time (the ones a growth may be racing with), any id otherwise.
    for (let j = 0; j < 256; j++) {
      const k = j % 2 === 0 ? published - 1 - rand(Math.min(published, 2048)) : rand(published);
      const id = ids[k];
      const lid = views.lookup(id);
      checks++;
      // The key column as far as this local id (its view grows with the writer's table).
      if (lid < 0 || views.idOfKey(views.keyColumn(lid + 1)[lid]) !== id) {
        if (violations.length < 5) violations.push(`id ${id} (#${k} of ${published}): local id ${lid}`);
      }
    }
  }
  if (done) break;
}
parentPort?.postMessage({ checks, violations, directBound: views.directBound });
