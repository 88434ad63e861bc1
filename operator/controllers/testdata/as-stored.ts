// A value as the API server answers it for a custom resource: stored as JSON and written back out
// with every object's keys sorted (Go's encoding/json of a map), not in the order we built them.
export function asStored<T>(value: T): T {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sort(x)]));
  };
  return sort(JSON.parse(JSON.stringify(value))) as T;
}
