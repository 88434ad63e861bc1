// Levenshtein distance, for "did you mean" suggestions (gateway config keys, operator settings).

/** Edits (insert, delete, substitute) from `a` to `b`; `ignoreCase` compares letters case-blind. */
export function editDistance(a: string, b: string, options: { readonly ignoreCase?: boolean } = {}): number {
  const same = options.ignoreCase === true
    ? (x: string | undefined, y: string | undefined): boolean => x?.toLowerCase() === y?.toLowerCase()
    : (x: string | undefined, y: string | undefined): boolean => x === y;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, previous + (same(a[i - 1], b[j - 1]) ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}
