/** The package version, read once from package.json (found by walking up from this file). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function packageVersion(): string {
  if (cached !== null) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const p = pkg as { name?: unknown; version?: unknown };
      if (p.name === 'epochgraph' && typeof p.version === 'string') return (cached = p.version);
    } catch {
      // not here; look further up
    }
    dir = path.dirname(dir);
  }
  return (cached = 'unknown');
}
