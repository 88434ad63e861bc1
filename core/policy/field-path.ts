// Field paths as AccessPolicies write them in `mask.fields`. One parser, used where policies are
// compiled (a path that does not parse makes its rule a Deny) and where masks are planned.

/** A parsed field path: object keys, with `*` for every key or array item. */
export type FieldPath = readonly string[];

/**
 * `.data.*`, `.spec.containers[*].env[*].value`, `.metadata.annotations['a/b']` to segments.
 * Throws TypeError on anything else.
 */
export function parseFieldPath(path: string): FieldPath {
  const segments: string[] = [];
  const re = /\.([A-Za-z0-9_-]+|\*)|\[\*\]|\['([^']+)'\]/gy;
  let match: RegExpExecArray | null;
  let at = 0;
  while ((match = re.exec(path)) !== null) {
    segments.push(match[1] ?? match[2] ?? '*');
    at = re.lastIndex;
  }
  if (at !== path.length || segments.length === 0) throw new TypeError(`mask field path ${JSON.stringify(path)} is not of the form .a.b[*].c or .a['key']`);
  return segments;
}
