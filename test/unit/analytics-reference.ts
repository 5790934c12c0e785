/**
 * Naive reference implementations of the Graphalytics algorithms, written straight from the
 * definitions over an edge list with arrays and Maps, for the property tests. Slow and
 * obviously right is the point.
 */

export interface EdgeListGraph {
  n: number;
  src: number[];
  dst: number[];
  weights: number[];
}

/** The symmetric simple graph of `g`: each joined pair once in each direction, min weight. */
export function symmetrize(g: EdgeListGraph): EdgeListGraph {
  const best = new Map<string, number>();
  const add = (a: number, b: number, w: number) => {
    const k = `${a},${b}`;
    const old = best.get(k);
    best.set(k, old === undefined ? w : Math.min(old, w));
  };
  for (let i = 0; i < g.src.length; i++) {
    add(g.src[i], g.dst[i], g.weights[i]);
    add(g.dst[i], g.src[i], g.weights[i]);
  }
  const out: EdgeListGraph = { n: g.n, src: [], dst: [], weights: [] };
  for (const [k, w] of best) {
    const [a, b] = k.split(',').map(Number);
    out.src.push(a);
    out.dst.push(b);
    out.weights.push(w);
  }
  return out;
}

export function refBfs(g: EdgeListGraph, source: number, direction: 'out' | 'in' | 'both'): number[] {
  const adj: number[][] = Array.from({ length: g.n }, () => []);
  for (let i = 0; i < g.src.length; i++) {
    if (direction !== 'in') adj[g.src[i]].push(g.dst[i]);
    if (direction !== 'out') adj[g.dst[i]].push(g.src[i]);
  }
  const dist = new Array<number>(g.n).fill(Number.POSITIVE_INFINITY);
  dist[source] = 0;
  const queue = [source];
  while (queue.length > 0) {
    const u = queue.shift()!;
    for (const v of adj[u]) {
      if (dist[v] === Number.POSITIVE_INFINITY) {
        dist[v] = dist[u] + 1;
        queue.push(v);
      }
    }
  }
  return dist;
}

/** PageRank literally by the formula, every listed edge counting once. */
export function refPagerank(g: EdgeListGraph, iterations: number, d: number): number[] {
  const n = g.n;
  const outdeg = new Array<number>(n).fill(0);
  for (const s of g.src) outdeg[s]++;
  let rank = new Array<number>(n).fill(1 / n);
  for (let it = 0; it < iterations; it++) {
    let dangling = 0;
    for (let v = 0; v < n; v++) if (outdeg[v] === 0) dangling += rank[v];
    const incoming = new Array<number>(n).fill(0);
    for (let i = 0; i < g.src.length; i++) incoming[g.dst[i]] += rank[g.src[i]] / outdeg[g.src[i]];
    rank = incoming.map((sum) => (1 - d) / n + d * (sum + dangling / n));
  }
  return rank;
}

/** Component label = smallest key, via a plain union-find over the edge list. */
export function refWcc(g: EdgeListGraph, keys: number[]): number[] {
  const parent = Array.from({ length: g.n }, (_, v) => v);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  for (let i = 0; i < g.src.length; i++) parent[find(g.src[i])] = find(g.dst[i]);
  const minKey = new Map<number, number>();
  for (let v = 0; v < g.n; v++) {
    const r = find(v);
    minKey.set(r, Math.min(minKey.get(r) ?? Number.POSITIVE_INFINITY, keys[v]));
  }
  return Array.from({ length: g.n }, (_, v) => minKey.get(find(v))!);
}

/**
 * CDLP with labels as keys. Directed: a vertex hears each out- and each in-neighbour once per
 * listed edge. For an undirected graph pass `symmetrize(g)` and `undirected`: each neighbour once.
 */
export function refCdlp(g: EdgeListGraph, iterations: number, keys: number[], undirected: boolean): number[] {
  const heard: number[][] = Array.from({ length: g.n }, () => []);
  for (let i = 0; i < g.src.length; i++) {
    heard[g.src[i]].push(g.dst[i]);
    if (!undirected) heard[g.dst[i]].push(g.src[i]);
  }
  let labels = [...keys];
  for (let it = 0; it < iterations; it++) {
    labels = labels.map((own, v) => {
      if (heard[v].length === 0) return own;
      const counts = new Map<number, number>();
      for (const u of heard[v]) counts.set(labels[u], (counts.get(labels[u]) ?? 0) + 1);
      let best = Number.POSITIVE_INFINITY;
      let bestCount = -1;
      for (const [label, c] of counts) {
        if (c > bestCount || (c === bestCount && label < best)) {
          best = label;
          bestCount = c;
        }
      }
      return best;
    });
  }
  return labels;
}

/** LCC by brute force: every ordered pair of distinct neighbours, checked against the edge set. */
export function refLcc(g: EdgeListGraph): number[] {
  const edges = new Set<string>();
  const nbrs: Set<number>[] = Array.from({ length: g.n }, () => new Set());
  for (let i = 0; i < g.src.length; i++) {
    const a = g.src[i];
    const b = g.dst[i];
    edges.add(`${a},${b}`);
    if (a !== b) {
      nbrs[a].add(b);
      nbrs[b].add(a);
    }
  }
  return nbrs.map((set) => {
    const list = [...set];
    const d = list.length;
    if (d < 2) return 0;
    let count = 0;
    for (const a of list) for (const b of list) if (a !== b && edges.has(`${a},${b}`)) count++;
    return count / (d * (d - 1));
  });
}

/** Bellman-Ford. */
export function refSssp(g: EdgeListGraph, source: number): number[] {
  const dist = new Array<number>(g.n).fill(Number.POSITIVE_INFINITY);
  dist[source] = 0;
  for (let round = 0; round < g.n; round++) {
    let changed = false;
    for (let i = 0; i < g.src.length; i++) {
      const nd = dist[g.src[i]] + g.weights[i];
      if (nd < dist[g.dst[i]]) {
        dist[g.dst[i]] = nd;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return dist;
}
