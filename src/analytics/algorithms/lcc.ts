/**
 * Local clustering coefficient (Graphalytics LCC).
 *
 * Definition: N(v) is the set of v's in- and out-neighbours other than v itself, d = |N(v)|,
 * and LCC(v) is the number of directed edges u→w with u, w in N(v), divided by d(d-1); 0 when
 * d < 2. For a symmetric graph each joined pair counts as two directed edges, so this is the
 * undirected 2T/(d(d-1)). Edges are counted as a set: parallel edges and self-loops add
 * nothing.
 *
 * Method: triangle enumeration on the underlying simple undirected graph, oriented from lower
 * to higher (degree, index). Each undirected edge {a, b} carries its multiplicity μ(a,b), the
 * number of directions present (1 or 2). Each triangle {v, a, b} is found exactly once, from
 * its lowest-ranked vertex, and adds μ(a,b) to v, μ(v,b) to a and μ(v,a) to b: exactly the
 * directed edges each corner sees among its neighbours. With the degree orientation every
 * oriented row has at most √(2m) entries, so the work is O(m^1.5) even with hub vertices,
 * where the textbook "mark N(v), scan N(u) for every neighbour u" costs Σ deg(u)².
 */
import type { CsrGraph } from '../csr-graph.js';
import { isSymmetric } from '../csr-graph.js';

/** LCC of every vertex, per the module comment. */
export function lcc(g: CsrGraph): Float64Array {
  const { n, outOffsets, outTargets, inOffsets, inTargets } = g;
  const symmetric = isSymmetric(g);
  const result = new Float64Array(n);
  if (n === 0) return result;

  // Pass 1: the undirected degree |N(v)| of every vertex (distinct neighbours, no self).
  const stamp = new Int32Array(n).fill(-1);
  const deg = new Float64Array(n);
  let maxRow = 0;
  for (let v = 0; v < n; v++) {
    let d = 0;
    let end = outOffsets[v + 1];
    for (let i = outOffsets[v]; i < end; i++) {
      const u = outTargets[i];
      if (u !== v && stamp[u] !== v) {
        stamp[u] = v;
        d++;
      }
    }
    if (!symmetric) {
      end = inOffsets[v + 1];
      for (let i = inOffsets[v]; i < end; i++) {
        const u = inTargets[i];
        if (u !== v && stamp[u] !== v) {
          stamp[u] = v;
          d++;
        }
      }
    }
    deg[v] = d;
    if (d > maxRow) maxRow = d;
  }

  // Pass 2: the oriented graph. Row v keeps the neighbours ranked above v, each with μ(v,u).
  // Every undirected edge lands in exactly one row, so the total is Σd / 2.
  let total = 0;
  for (let v = 0; v < n; v++) total += deg[v];
  total /= 2;
  const oOff = new Float64Array(n + 1);
  const oTgt = new Uint32Array(total);
  const oMul = new Uint8Array(total);
  const dirs = new Uint8Array(n); // bit 1: v→u seen, bit 2: u→v seen
  const row = new Uint32Array(maxRow);
  stamp.fill(-1);
  let p = 0;
  for (let v = 0; v < n; v++) {
    let k = 0;
    let end = outOffsets[v + 1];
    for (let i = outOffsets[v]; i < end; i++) {
      const u = outTargets[i];
      if (u === v) continue;
      if (stamp[u] !== v) {
        stamp[u] = v;
        dirs[u] = symmetric ? 3 : 1;
        row[k++] = u;
      }
    }
    if (!symmetric) {
      end = inOffsets[v + 1];
      for (let i = inOffsets[v]; i < end; i++) {
        const u = inTargets[i];
        if (u === v) continue;
        if (stamp[u] !== v) {
          stamp[u] = v;
          dirs[u] = 2;
          row[k++] = u;
        } else dirs[u] |= 2;
      }
    }
    const dv = deg[v];
    for (let j = 0; j < k; j++) {
      const u = row[j];
      const du = deg[u];
      if (du > dv || (du === dv && u > v)) {
        oTgt[p] = u;
        oMul[p] = dirs[u] === 3 ? 2 : 1;
        p++;
      }
    }
    oOff[v + 1] = p;
  }

  // Pass 3: triangles. Mark v's higher neighbours with μ(v,·), then scan each one's own
  // higher neighbours for marks.
  const seen = new Float64Array(n);
  const mark = stamp;
  mark.fill(-1);
  const muV = dirs; // reused: μ(v,w) of the currently marked row
  for (let v = 0; v < n; v++) {
    const start = oOff[v];
    const end = oOff[v + 1];
    if (end - start < 2) continue;
    for (let i = start; i < end; i++) {
      mark[oTgt[i]] = v;
      muV[oTgt[i]] = oMul[i];
    }
    let cv = 0;
    for (let i = start; i < end; i++) {
      const u = oTgt[i];
      const muvu = oMul[i];
      let cu = 0;
      const uEnd = oOff[u + 1];
      for (let j = oOff[u]; j < uEnd; j++) {
        const w = oTgt[j];
        if (mark[w] === v) {
          cv += oMul[j];
          cu += muV[w];
          seen[w] += muvu;
        }
      }
      seen[u] += cu;
    }
    seen[v] += cv;
  }

  for (let v = 0; v < n; v++) {
    const d = deg[v];
    result[v] = d < 2 ? 0 : seen[v] / (d * (d - 1));
  }
  return result;
}
