/**
 * Where a worker script lives. Workers run compiled JavaScript: from dist/ the script sits
 * next to this file; from TypeScript sources (vitest runs them after `npm test` built dist/)
 * the compiled copy under dist/ is used.
 */
export function workerUrl(name: string): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL(`../dist/partitions/${name}.js`, here);
  return new URL(`./${name}.js`, here);
}
