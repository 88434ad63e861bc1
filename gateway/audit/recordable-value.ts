// Whether a parsed request body can go into an audit record as it is. Records are hashed as
// canonical JSON, which has no form for Infinity or NaN (JSON's 1e400, YAML's .inf and .nan), and
// masking, redaction and serialisation walk the value recursively: a body nested thousands of
// levels deep (the API server takes JSON up to 10000) would overflow the stack. Either failure
// used to fail the audit write, refusing the request with no record at all; such a body is
// recorded as its digest instead.

/** Deeper than any Kubernetes object; the recursive walks stay far from the stack's limit. */
export const MAX_RECORDED_DEPTH = 512;

/** Why the value cannot be recorded as it is, or undefined when it can. Iterative, whatever the depth. */
export function unrecordableReason(value: unknown): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value: node, depth } = next;
    if (typeof node === 'number' && !Number.isFinite(node)) return `the body holds a number JSON cannot carry (${String(node)})`;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_RECORDED_DEPTH) return `the body nests deeper than ${String(MAX_RECORDED_DEPTH)} levels`;
    for (const item of Array.isArray(node) ? node : Object.values(node)) stack.push({ value: item, depth: depth + 1 });
  }
  return undefined;
}
