// What to mask in one response: Secret values for every caller (unless the request is exempt),
// plus the field paths and env names of the rules that let it through (merged by the policy). Paths within an object are placed under every
// root an object can have in an answer: the body itself, a list's items, a watch event's object and
// a Table row's object (kubectl asks for those with includeObject, e.g. `get --sort-by`), and the
// row objects of a watched Table.
import type { RequestAttributes } from '../../core/policy/model.ts';
import { compileUserPattern } from '../../core/policy/user-pattern.ts';
import { parseFieldPath } from '../../core/policy/field-path.ts';
import type { MaskRule, PathPattern } from './json-masker.ts';

export { parseFieldPath };

/** Written in place of a Secret `data` value: still valid base64, decoding to "***MASKED***". */
export const MASKED_BASE64 = Buffer.from('***MASKED***').toString('base64');
/** Written in place of any other masked string. */
export const MASKED_TEXT = '***MASKED***';
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

// A watch of Tables (`kubectl get -w`) carries each row's object under the event's object.
const ROOTS: readonly PathPattern[] = [[], ['items', '*'], ['object'], ['rows', '*', 'object'], ['object', 'rows', '*', 'object']];

/**
 * The mask settings a response is answered under: one rule's `mask` as written, or the merge of
 * every rule that let the request through (policy/rule-mask.ts), whose env patterns are a list.
 */
export interface RuleMask {
  readonly fields?: readonly string[];
  readonly envNamePattern?: string;
  readonly envNamePatterns?: readonly string[];
  readonly exempt?: boolean;
}

function envPatterns(mask: RuleMask | undefined): string[] {
  const patterns = [...(mask?.envNamePattern === undefined ? [] : [mask.envNamePattern]), ...(mask?.envNamePatterns ?? [])];
  return patterns.filter((p) => p !== '');
}

const SECRET_FIELDS: readonly { readonly path: PathPattern; readonly marker: string }[] = [
  { path: ['data', '*'], marker: MASKED_BASE64 },
  { path: ['stringData', '*'], marker: MASKED_TEXT },
  // kubectl apply keeps the whole object, Secret values included, in this annotation.
  { path: ['metadata', 'annotations', LAST_APPLIED], marker: MASKED_TEXT },
];

/** Where a pod template's containers are, in the kinds that have one (Pod, workloads, CronJob). */
const POD_SPECS: readonly PathPattern[] = [['spec'], ['spec', 'template', 'spec'], ['spec', 'jobTemplate', 'spec', 'template', 'spec']];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/** A rule's env name pattern (compiled once per rule: maskRulesFor keeps its rules); one that does
 * not compile matches every name (fail closed). */
function envNameRegExp(pattern: string): RegExp {
  try {
    return compileUserPattern(pattern);
  } catch {
    return /[\s\S]*/;
  }
}

/** env values whose entry's name matches, in every container list of every pod template. */
function envFields(pattern: string): MaskRule[] {
  const when = { key: 'name', pattern: envNameRegExp(pattern) };
  return POD_SPECS.flatMap((spec) => CONTAINER_LISTS.map((list) => ({ path: [...spec, list, '*', 'env', '*', 'value'], marker: MASKED_TEXT, when })));
}

/** kubectl apply keeps the whole object in this annotation: whatever a policy masks is in it too. */
const LAST_APPLIED_FIELD: MaskRule = { path: ['metadata', 'annotations', LAST_APPLIED], marker: MASKED_TEXT };

/**
 * Whether a Table may be answered under these masks. The Secret defaults allow it (a Secret's
 * columns are its type, a count of its keys and its age); policy masks do not, since a custom
 * resource's printer column could show the very field a policy masks, in a cell with no path.
 */
export function tablesAllowed(mask: RuleMask | undefined): boolean {
  return (mask?.fields ?? []).length === 0 && envPatterns(mask).length === 0;
}

/** The rules for a response to `request`, or [] when nothing is masked (the body is piped untouched). */
export function maskRulesFor(request: RequestAttributes, mask: RuleMask | undefined): readonly MaskRule[] {
  const secrets = request.resourceRequest && request.apiGroup === '' && request.resource === 'secrets';
  // A rule's mask settings are one object for as long as its policy is compiled: the rules (and
  // the masker's trie of them, cached by this array) are built once per rule, not per request.
  const key = mask ?? NO_MASK;
  let bySecrets = planned.get(key);
  if (bySecrets === undefined) {
    bySecrets = new Map();
    planned.set(key, bySecrets);
  }
  let rules = bySecrets.get(secrets);
  if (rules === undefined) {
    rules = buildRules(secrets, mask);
    bySecrets.set(secrets, rules);
  }
  return rules;
}

const NO_MASK: RuleMask = {};
const planned = new WeakMap<RuleMask, Map<boolean, readonly MaskRule[]>>();

function buildRules(secrets: boolean, mask: RuleMask | undefined): readonly MaskRule[] {
  const within: MaskRule[] = [];
  if (secrets && mask?.exempt !== true) within.push(...SECRET_FIELDS);
  const fields = mask?.fields ?? [];
  for (const field of fields) within.push({ path: parseFieldPath(field), marker: MASKED_TEXT });
  const env = envPatterns(mask);
  for (const pattern of env) within.push(...envFields(pattern));
  if (fields.length > 0 || env.length > 0) within.push(LAST_APPLIED_FIELD);
  return ROOTS.flatMap((root) => within.map((w) => ({ ...w, path: [...root, ...w.path] })));
}
