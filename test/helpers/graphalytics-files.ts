/**
 * Where the LDBC Graphalytics validation graphs are (/work/shared/graphalytics, or
 * $GRAPHALYTICS_DIR), and how their expected-output files read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const GRAPHALYTICS_DIR = process.env.GRAPHALYTICS_DIR ?? '/work/shared/graphalytics';
export const fixture = (...parts: string[]) => join(GRAPHALYTICS_DIR, ...parts);

/** An expected-output file: id → value text. */
export async function readExpected(path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const t = line.trim();
    if (t.length === 0) continue;
    const [id, value] = t.split(/\s+/);
    out.set(Number(id), value);
  }
  return out;
}
