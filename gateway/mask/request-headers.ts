// The request rewrite masking needs: the API server must answer in JSON (protobuf cannot be masked
// without every type's schema) and uncompressed (the masker reads JSON bytes), so both are asked
// for; a client that accepts nothing but protobuf is refused. The masker itself runs in the body
// relay (forward/body-relay.ts).
import type { OutgoingHttpHeaders } from 'node:http';

/**
 * The upstream request headers when the response is masked: Accept without protobuf entries (JSON
 * entries, with their `as=Table` parameters, are kept; none left means JSON), no Accept-Encoding.
 * With `tables: false` the Table entries go too: a Table's cells are printer columns, positional
 * and without the field path they came from, so a custom resource's column could show a field a
 * policy masks; the answer is then the plain object or list (kubectl prints NAME and AGE for it).
 * Returns undefined when the client accepts nothing the masker can read (only protobuf, CBOR, YAML).
 */
const READABLE = /^(?:[^/]+\/(?:[^;]*\+)?json|\*\/\*|application\/\*)$/i;

export function headersForMasking(headers: OutgoingHttpHeaders, options: { tables: boolean } = { tables: true }): OutgoingHttpHeaders | undefined {
  const accept = headers['accept'];
  const entries = (Array.isArray(accept) ? accept.join(',') : typeof accept === 'number' ? String(accept) : accept ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  // Only JSON (or a wildcard, which the API server answers with JSON) can be masked: protobuf,
  // CBOR and YAML entries go, so the API server never picks one the masker cannot read.
  const json = entries.filter((e) => READABLE.test(e.split(';')[0]?.trim() ?? ''));
  if (entries.length > 0 && json.length === 0) return undefined;
  const kept = options.tables ? json : json.filter((e) => !e.split(';').slice(1).some((p) => /^\s*as\s*=\s*Table\s*$/i.test(p)));
  const next: OutgoingHttpHeaders = { ...headers, accept: kept.length === 0 ? 'application/json' : kept.join(', ') };
  delete next['accept-encoding'];
  return next;
}
