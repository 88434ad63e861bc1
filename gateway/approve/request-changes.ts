// What a held request will change, for the approver: the body's fields, each as its path and new
// value, masked by the same rules as a response (a Secret value in a patch reads as the mask
// marker), and a summary that says no more than the body does. A merge, strategic-merge or apply
// patch lists the fields it sets (null: removed); a JSON patch lists its operations; a create or
// update lists the fields of the object it sends (the whole object: there is no diff against the
// stored one); a DELETE lists its DeleteOptions. A body that cannot be read field by field
// (protobuf, CBOR, not valid JSON) is named, never summarised as something it may not be.
import { parse as parseYaml } from 'yaml';
import type { RequestAttributes } from '../../core/policy/model.ts';
import { maskParsed, type MaskRule } from '../mask/json-masker.ts';
import type { RequestChange } from '../../core/approval/approval-object.ts';


export interface DescribedBody {
  readonly changes: readonly RequestChange[];
  /** What the changes do not show, for a person: fields left out, or why the body is not listed. */
  readonly note?: string;
}

export const MAX_CHANGES = 64;
export const MAX_VALUE_CHARS = 256;
/** The CRD's limits (crds/airlock.dev_approvalrequests.yaml): a longer field would fail the whole create. */
const MAX_PATH_CHARS = 1024;
const MAX_SUMMARY = 1024;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

interface Segment { readonly key: string; readonly index: boolean }

function renderPath(segments: readonly Segment[]): string {
  if (segments.length === 0) return '.';
  return clip(segments.map((s) => {
    if (s.index) return `[${s.key}]`;
    if (/^[A-Za-z0-9_-]+$/.test(s.key)) return `.${s.key}`;
    return s.key.includes("'") ? `[${JSON.stringify(s.key)}]` : `['${s.key}']`;
  }).join(''), MAX_PATH_CHARS);
}

function renderValue(value: unknown): string {
  // JSON.stringify's declared type omits the undefined it returns for a value JSON cannot hold.
  const text = (JSON.stringify(value) as string | undefined) ?? 'null';
  return text.length <= MAX_VALUE_CHARS ? text : `${text.slice(0, MAX_VALUE_CHARS)}… (${text.length} characters)`;
}

/** Every leaf of a value (an empty object or list is a leaf), with its path. */
function leaves(value: unknown, path: Segment[], out: { path: Segment[]; value: unknown }[]): void {
  if (value !== null && typeof value === 'object') {
    const entries: [Segment, unknown][] = Array.isArray(value)
      ? value.map((v: unknown, i) => [{ key: String(i), index: true }, v])
      : Object.entries(value).map(([k, v]) => [{ key: k, index: false }, v]);
    if (entries.length > 0) {
      for (const [segment, child] of entries) leaves(child, [...path, segment], out);
      return;
    }
  }
  out.push({ path, value });
}

/** RFC 6901 pointer to segments; numbers and `-` are list positions. */
function pointerSegments(pointer: unknown): Segment[] | undefined {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) return undefined;
  return pointer.split('/').slice(1).map((raw) => {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return { key, index: /^(\d+|-)$/.test(key) };
  });
}

/** A JSON patch value masked as it would be at its place in the object. */
function maskAt(segments: readonly Segment[], value: unknown, rules: readonly MaskRule[]): unknown {
  const nested = segments.reduceRight<unknown>((inner, s) => ({ [s.key]: inner }), value);
  const masked = maskParsed(nested, rules);
  return segments.reduce<unknown>((node, s) => (node as Record<string, unknown>)[s.key], masked);
}

function jsonPatchChanges(ops: readonly unknown[], rules: readonly MaskRule[]): RequestChange[] | undefined {
  const changes: RequestChange[] = [];
  for (const raw of ops) {
    if (raw === null || typeof raw !== 'object') return undefined;
    const op = raw as { op?: unknown; path?: unknown; value?: unknown; from?: unknown };
    const segments = pointerSegments(op.path);
    if (typeof op.op !== 'string' || segments === undefined) return undefined;
    const from = pointerSegments(op.from);
    changes.push({
      path: renderPath(segments), op: op.op,
      ...('value' in op ? { value: renderValue(maskAt(segments, op.value, rules)) } : {}),
      ...(from === undefined ? {} : { from: renderPath(from) }),
    });
  }
  return changes;
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

function parseBody(body: Buffer, mediaType: string): { value: unknown } | { note: string } {
  const text = body.toString('utf8');
  try {
    if (mediaType.endsWith('json') || mediaType === '') return { value: JSON.parse(text) as unknown };
    if (mediaType.endsWith('yaml')) return { value: parseYaml(text) as unknown };
  } catch {
    return { note: `the body (${body.length} bytes) is not valid ${mediaType === '' ? 'JSON' : mediaType}, so its fields cannot be shown; its SHA-256 is bodyDigest` };
  }
  return { note: `the body is ${mediaType} (${body.length} bytes), which Airlock cannot show field by field; its SHA-256 is bodyDigest` };
}

function capped(all: readonly RequestChange[]): DescribedBody {
  if (all.length <= MAX_CHANGES) return { changes: all };
  return { changes: all.slice(0, MAX_CHANGES), note: `${all.length - MAX_CHANGES} more fields are not listed` };
}

/** The body's changes for the ApprovalRequest, masked by `rules` (the response's mask rules). */
export function describeBody(input: { readonly body: Buffer; readonly contentType: string; readonly rules: readonly MaskRule[] }): DescribedBody {
  if (input.body.length === 0) return { changes: [] };
  const mediaType = mediaTypeOf(input.contentType);
  const parsed = parseBody(input.body, mediaType);
  if ('note' in parsed) return { changes: [], note: parsed.note };
  if (mediaType === 'application/json-patch+json' && Array.isArray(parsed.value)) {
    const ops = jsonPatchChanges(parsed.value, input.rules);
    if (ops !== undefined) return capped(ops);
  }
  const out: { path: Segment[]; value: unknown }[] = [];
  leaves(maskParsed(parsed.value, input.rules), [], out);
  return capped(out.map((leaf) => ({ path: renderPath(leaf.path), value: renderValue(leaf.value) })));
}

const KIND_OF: Readonly<Record<string, string>> = {
  deployments: 'deployment', statefulsets: 'statefulset', replicasets: 'replicaset', daemonsets: 'daemonset',
  namespaces: 'namespace', pods: 'pod', services: 'service', secrets: 'secret', configmaps: 'configmap',
};

const REPLICAS = '.spec.replicas';

/** The replica count when the request changes nothing else (the scale subresource only acts on it). */
function scaleTo(request: RequestAttributes, described: DescribedBody): number | undefined {
  if (described.note !== undefined || (request.verb !== 'patch' && request.verb !== 'update')) return undefined;
  const onlyReplicas = request.subresource === 'scale'
    ? described.changes.filter((c) => c.path === REPLICAS && c.op !== 'remove')
    : request.subresource === '' && request.verb === 'patch' && described.changes.length === 1 ? described.changes : [];
  const change = onlyReplicas.find((c) => c.path === REPLICAS && (c.op === undefined || c.op === 'replace' || c.op === 'add'));
  const value = change?.value === undefined ? undefined : JSON.parse(change.value) as unknown;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function withPaths(base: string, described: DescribedBody): string {
  if (described.changes.length === 0) return described.note === undefined ? base : `${base} (body not shown: see changesNote)`;
  const paths = [...new Set(described.changes.map((c) => c.path))];
  let text = `${base}: ${paths[0] ?? ''}`;
  for (const [i, path] of paths.entries()) {
    if (i === 0) continue;
    const rest = paths.length - i;
    if (text.length + path.length + 40 > MAX_SUMMARY) return `${text} and ${rest} more`;
    text += `, ${path}`;
  }
  return described.note === undefined ? text : `${text} and more`;
}

/**
 * What will happen, for a person: "scale deployment prod/api to 0 replicas" only when replicas
 * are all that changes; otherwise the verb and target, and for a patch the field paths it sets.
 */
export function summarize(request: RequestAttributes, described: DescribedBody): string {
  if (!request.resourceRequest) return `${request.verb} ${request.path}`;
  const kind = KIND_OF[request.resource] ?? request.resource;
  const target = request.namespace === '' ? request.name : `${request.namespace}/${request.name}`;
  const replicas = scaleTo(request, described);
  if (replicas !== undefined) return `scale ${kind} ${target} to ${replicas} replica${replicas === 1 ? '' : 's'}`;
  const sub = request.subresource === '' ? '' : ` ${request.subresource}`;
  const base = request.name === ''
    ? `${request.verb} ${kind}${sub}${request.namespace === '' ? '' : ` in namespace ${request.namespace}`}`
    : `${request.verb} ${kind}${sub} ${target}`;
  return clip(request.verb === 'patch' ? withPaths(base, described) : base, MAX_SUMMARY);
}
