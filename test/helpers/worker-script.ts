/**
 * Worker threads run compiled JavaScript: resolve a helper's build output under dist/.
 * `npm test` builds first; running a single test file needs `npm run build` beforehand.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function distPath(relativeTs: string): string {
  const rel = relativeTs.replace(/\.ts$/, '.js');
  const candidates = [path.join(root, 'dist', rel), path.join(root, rel)];
  for (const c of candidates) if (existsSync(c) && c.endsWith('.js')) return c;
  throw new Error(`compiled ${rel} not found under ${path.join(root, 'dist')}: run "npm run build" first`);
}
