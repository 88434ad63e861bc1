// The caller's bearer token from the Authorization header, read as kube-apiserver reads it: the
// scheme is case-insensitive, and exactly one non-empty token must follow it.
import type { IncomingHttpHeaders } from 'node:http';
import { AuthenticationError } from './identity.ts';

export function bearerTokenFrom(headers: IncomingHttpHeaders): string {
  const value = headers.authorization;
  if (value === undefined || value.trim() === '') throw new AuthenticationError('missing_token', 'no Authorization header');
  const match = /^bearer\s+(\S+)\s*$/i.exec(value.trim());
  // The header's content is not repeated: it may be a credential in another scheme.
  if (match?.[1] === undefined) throw new AuthenticationError('missing_token', 'the Authorization header does not carry a bearer token');
  return match[1];
}
