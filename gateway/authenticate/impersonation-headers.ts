// Reads the impersonation a caller asks for (kubectl --as, --as-group, --as-uid, extras) the way
// kube-apiserver's impersonation filter reads it, and writes the impersonation the gateway forwards
// the way client-go writes it. Node keeps header values as latin1 strings of the raw bytes, so
// both directions convert UTF-8 explicitly: otherwise a user "josé" would reach the API server as
// a different name from the one the gateway authorised.
import type { UserInfo } from '../../core/identity.ts';
import type { ImpersonationTarget } from './resolve-identity.ts';
import { percentDecode } from '../parse/request-target.ts';

export type ImpersonationHeaderErrorCode =
  | 'user-required'
  | 'multiple-users'
  | 'multiple-uids'
  | 'empty-value'
  | 'invalid-value'
  | 'bad-extra-key'
  | 'unknown-header';

/** Impersonation headers the gateway will not act on; 400 BadRequest, as the API server answers. */
export class ImpersonationHeaderError extends Error {
  readonly code: ImpersonationHeaderErrorCode;
  /** The header at fault, in its canonical spelling. */
  readonly header: string | undefined;

  constructor(code: ImpersonationHeaderErrorCode, message: string, header?: string) {
    super(message);
    this.name = 'ImpersonationHeaderError';
    this.code = code;
    this.header = header;
  }
}

const USER = 'Impersonate-User';
const UID = 'Impersonate-Uid';
const GROUP = 'Impersonate-Group';
const EXTRA = 'Impersonate-Extra-';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** RFC 9110 token characters, as client-go's legalHeaderKeyBytes table lists them. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

/**
 * client-go's headerKeyEscape: every UTF-8 byte that is not a token character, and '%', becomes
 * %XX. Upper-case letters are escaped too (client-go leaves them), because the API server
 * lower-cases the key before unescaping it and a literal "A" would arrive as "a".
 */
export function escapeExtraKey(key: string): string {
  const known = escapedKeys.get(key);
  if (known !== undefined) return known;
  const escaped = escapeKey(key);
  // The gateway forwards a fixed set of extra keys (forwarded-extras.ts): remember a few, not all.
  if (escapedKeys.size < 64) escapedKeys.set(key, escaped);
  return escaped;
}

const escapedKeys = new Map<string, string>();

function escapeKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += TOKEN.test(c) && c !== '%' && !(c >= 'A' && c <= 'Z') ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The API server's reading of a header key suffix: lower-cased, then percent-unescaped. */
export function unescapeExtraKey(encoded: string): string | undefined {
  return percentDecode(encoded.toLowerCase(), false);
}

function decodeExtraKey(encoded: string, header: string): string {
  const key = encoded === '' ? undefined : unescapeExtraKey(encoded);
  // The API server records a malformed key verbatim; refusing is clearer than guessing. A key
  // "__proto__" would vanish into an object's prototype in later stages, so it goes too.
  if (key === undefined || key === '__proto__') {
    throw new ImpersonationHeaderError('bad-extra-key', `${header}: the extra key must be non-empty, percent-encoded UTF-8`, header);
  }
  return key;
}

/** Node's latin1 view of the header bytes, read as the UTF-8 the client sent. */
function fromWire(value: string, header: string): string {
  // eslint-disable-next-line no-control-regex -- only latin1 code points can come off the wire
  if (/[^\u0000-\u00ff]/.test(value)) throw new ImpersonationHeaderError('invalid-value', `${header} is not a raw header value`, header);
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    throw new ImpersonationHeaderError('invalid-value', `${header} is not valid UTF-8`, header);
  }
}

interface Lines {
  user: string[];
  uid: string[];
  groups: string[];
  extra: Map<string, string[]>;
}

function collect(headers: Readonly<Record<string, readonly string[] | undefined>>): Lines | undefined {
  const lines: Lines = { user: [], uid: [], groups: [], extra: new Map() };
  let found = false;
  for (const [rawName, values] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (values === undefined || !name.startsWith('impersonate-')) continue;
    found = true;
    if (name === 'impersonate-user') lines.user.push(...values.map((v) => fromWire(v, USER)));
    else if (name === 'impersonate-uid') lines.uid.push(...values.map((v) => fromWire(v, UID)));
    else if (name === 'impersonate-group') lines.groups.push(...values.map((v) => fromWire(v, GROUP)));
    else if (name.startsWith('impersonate-extra-')) {
      const header = `${EXTRA}${rawName.slice(EXTRA.length)}`;
      const key = decodeExtraKey(name.slice(EXTRA.length), header);
      lines.extra.set(key, [...(lines.extra.get(key) ?? []), ...values.map((v) => fromWire(v, header))]);
    } else {
      // Not read by the API server today; refused so a future variant is never silently dropped.
      throw new ImpersonationHeaderError('unknown-header', `unknown impersonation header "${rawName}"`, rawName);
    }
  }
  return found ? lines : undefined;
}

/**
 * The impersonation a request asks for, or `undefined` when it sends no `Impersonate-*` header.
 * Takes Node's `req.headersDistinct` (names matched without case): each Impersonate-Group line is
 * one group and each Impersonate-Extra-* line one value; commas are never split.
 */
export function readImpersonationRequest(headers: Readonly<Record<string, readonly string[] | undefined>>): ImpersonationTarget | undefined {
  const lines = collect(headers);
  if (lines === undefined) return undefined;
  if (lines.user.length > 1) throw new ImpersonationHeaderError('multiple-users', `at most one ${USER} header is allowed`, USER);
  if (lines.uid.length > 1) throw new ImpersonationHeaderError('multiple-uids', `at most one ${UID} header is allowed`, UID);
  const [user = ''] = lines.user;
  if (user === '') {
    const asked = [[GROUP, lines.groups.length], [`${EXTRA}*`, lines.extra.size], [UID, lines.uid.length]] as const;
    const what = asked.filter(([, n]) => n > 0).map(([h]) => h);
    if (what.length > 0) throw new ImpersonationHeaderError('user-required', `requested ${what.join(', ')} without impersonating a user`, USER);
    throw new ImpersonationHeaderError('empty-value', `the ${USER} header is empty`, USER);
  }
  const [uid] = lines.uid;
  if (uid === '') throw new ImpersonationHeaderError('empty-value', `the ${UID} header is empty`, UID);
  if (lines.groups.includes('')) throw new ImpersonationHeaderError('empty-value', `an ${GROUP} header is empty`, GROUP);
  const target = { user, ...(uid === undefined ? {} : { uid }), groups: lines.groups, extra: Object.fromEntries(lines.extra) };
  const problem = forwardingProblem({ username: user, ...(uid === undefined ? {} : { uid }), groups: lines.groups, extra: target.extra });
  if (problem !== undefined) throw new ImpersonationHeaderError('invalid-value', `impersonation refused: ${problem}`);
  return target;
}

/**
 * Why a value cannot travel as a header value unchanged, or undefined. A receiver trims surrounding
 * whitespace and cannot carry control characters, so such a value would name a different identity
 * upstream than the one the gateway decided on.
 */
function valueProblem(value: string): string | undefined {
  if (PLAIN_ASCII.test(value)) return undefined;
  if (value === '') return 'is empty';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value) || value.trim() !== value) return 'has surrounding whitespace or a control character';
  return undefined;
}

/** A value as Node must be given it so the UTF-8 bytes reach the wire; refuses what would not survive. */
function toWire(value: string, header: string): string {
  // Printable ASCII without surrounding spaces (nearly every name) is its own latin1 view.
  if (PLAIN_ASCII.test(value)) return value;
  if (value === '') throw new ImpersonationHeaderError('empty-value', `cannot send an empty ${header}`, header);
  const problem = valueProblem(value);
  if (problem !== undefined) throw new ImpersonationHeaderError('invalid-value', `${header} ${problem}`, header);
  return Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * Why an identity cannot be forwarded as impersonation headers, or undefined: checked where the
 * identity is established (authentication, the caller's own impersonation headers), so the failure
 * is a clear refusal there and never a throw while forwarding.
 */
export function forwardingProblem(identity: UserInfo): string | undefined {
  const checks: [string, string][] = [['the username', identity.username]];
  if (identity.uid !== undefined && identity.uid !== '') checks.push(['the uid', identity.uid]);
  for (const group of identity.groups) checks.push([`the group ${JSON.stringify(group)}`, group]);
  for (const [key, values] of Object.entries(identity.extra)) {
    if (key === '' && values.length > 0) return 'an extra has an empty key, so it cannot be passed on to the Kubernetes API server unchanged';
    for (const value of values) checks.push([`a value of the extra ${JSON.stringify(key)}`, value]);
  }
  for (const [what, value] of checks) {
    const problem = valueProblem(value);
    if (problem !== undefined) return `${what} ${problem}, so it cannot be passed on to the Kubernetes API server unchanged`;
  }
  return undefined;
}

const PLAIN_ASCII = /^[\u0021-\u007e](?:[\u0020-\u007e]*[\u0021-\u007e])?$/;

/** Header name → value(s) for `setHeader`, one line per group and per extra value. */
export type ImpersonationHeaders = Record<string, string | string[]>;

const AUTHENTICATED = 'system:authenticated';

/**
 * The groups to send. The API server adds `system:authenticated` itself to an impersonated user
 * that is not `system:anonymous` and is given neither that group nor `system:unauthenticated`
 * (k8s.io/apiserver impersonation filter), and checks every group it is sent as a separate
 * authorization: so it is left out where the API server puts it back, the same identity for one
 * check fewer per request. Not when nothing would be left for a ServiceAccount: given no group at
 * all, the API server gives it the ServiceAccount groups, which the gateway did not decide on.
 */
function groupsToSend(identity: UserInfo): readonly string[] {
  const { groups, username } = identity;
  if (username === 'system:anonymous' || !groups.includes(AUTHENTICATED) || groups.includes('system:unauthenticated')) return groups;
  const rest = groups.filter((g) => g !== AUTHENTICATED);
  return rest.length === 0 && username.startsWith('system:serviceaccount:') ? groups : rest;
}

/**
 * The impersonation headers that make the API server act as `identity`: user, uid, every group
 * (less the `system:authenticated` the API server adds back, see groupsToSend), every extra value;
 * extra keys are sorted for stable output.
 */
export function impersonationHeadersFor(identity: UserInfo): ImpersonationHeaders {
  const headers: ImpersonationHeaders = { [USER]: toWire(identity.username, USER) };
  if (identity.uid !== undefined && identity.uid !== '') headers[UID] = toWire(identity.uid, UID);
  const groups = groupsToSend(identity);
  if (groups.length > 0) headers[GROUP] = groups.map((g) => toWire(g, GROUP));
  for (const key of Object.keys(identity.extra).sort()) {
    const values = identity.extra[key] ?? [];
    if (values.length === 0) continue;
    if (key === '') throw new ImpersonationHeaderError('bad-extra-key', 'cannot send an empty extra key', EXTRA);
    const header = `${EXTRA}${escapeExtraKey(key)}`;
    headers[header] = values.map((v) => toWire(v, header));
  }
  return headers;
}
