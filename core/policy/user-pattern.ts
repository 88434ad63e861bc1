// Regular expressions as users write them in AccessPolicies. People copy patterns from Go tools
// (RE2), whose case-insensitive flag is an inline `(?i)` prefix; JavaScript has no inline flags, so
// a leading `(?i)` becomes the `i` flag. Everything else is JavaScript syntax with the `u` flag.

/** Compiles a policy pattern; throws SyntaxError naming the problem. */
export function compileUserPattern(pattern: string, flags = ''): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const source = insensitive ? pattern.slice(4) : pattern;
  if (source === '') throw new SyntaxError('an empty pattern matches everything');
  return new RegExp(source, `u${flags}${insensitive ? 'i' : ''}`);
}
