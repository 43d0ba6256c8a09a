/** "Did you mean": the nearest known name by edit distance, when it is near enough to be a typo. */

/** Levenshtein distance, two rows; gives up (returns max + 1) once every cell exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** Typos only: at most 1 edit for names up to 4 characters, 2 up to 12, then a third of the length. */
export const typoBudget = (s: string) => (s.length <= 4 ? 1 : s.length <= 12 ? 2 : Math.floor(s.length / 3));

/** The known string nearest to `wanted` within its typo budget (ties: the first in `known`), or null. */
export function nearest(wanted: string, known: Iterable<string>): string | null {
  const budget = typoBudget(wanted);
  let best: string | null = null;
  let bestD = budget + 1;
  for (const k of known) {
    if (k === wanted) continue;
    const d = editDistance(wanted, k, bestD - 1);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}
