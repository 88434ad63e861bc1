// Which requests may switch protocols: exactly those kube-apiserver itself upgrades. The upgrade
// path relays bytes after the 101 and never masks them, so anything else that arrives with
// `Connection: Upgrade` (a Secret GET, a list, a create) is refused rather than relayed.
import type { RequestAttributes } from '../../core/policy/model.ts';

/** How an admitted upgrade is relayed. */
export type UpgradeKind = 'session' | 'proxy' | 'watch';

export type UpgradeRefusalCode = 'not-upgradable' | 'unsupported-protocol';

/** An upgrade the API server would not perform; 400 BadRequest. */
export class UpgradeRefusedError extends Error {
  readonly code: UpgradeRefusalCode;
  constructor(code: UpgradeRefusalCode, message: string) {
    super(message);
    this.name = 'UpgradeRefusedError';
    this.code = code;
  }
}

const SESSIONS = new Set(['exec', 'attach', 'portforward']);
/** kubectl's protocols for exec, attach and port-forward (WebSocket first, SPDY as the fallback). */
const SESSION_PROTOCOLS = new Set(['websocket', 'spdy/3.1']);

/** The protocols a client offers in `Upgrade`, lower-cased (RFC 9110 §7.8: a comma-separated list). */
function offered(upgrade: string): string[] {
  return upgrade.split(',').map((p) => p.trim().toLowerCase()).filter((p) => p !== '');
}

/**
 * What an upgrade request is, or a refusal: exec/attach/port-forward over WebSocket or SPDY, the
 * proxy subresources and the old /proxy/ paths with any protocol (the target pod or service
 * decides), and watches over WebSocket (the API server serves them; kubectl does not use them).
 */
export function upgradeKind(request: RequestAttributes, upgrade: string): UpgradeKind {
  const protocols = offered(upgrade);
  if (request.resourceRequest && SESSIONS.has(request.subresource)) {
    if (protocols.some((p) => SESSION_PROTOCOLS.has(p))) return 'session';
    throw new UpgradeRefusedError('unsupported-protocol', `${request.resource}/${request.subresource} upgrades only to WebSocket or SPDY/3.1, not ${JSON.stringify(upgrade)}`);
  }
  if (request.resourceRequest && (request.subresource === 'proxy' || request.verb === 'proxy')) return 'proxy';
  if (request.resourceRequest && request.verb === 'watch') {
    if (protocols.includes('websocket')) return 'watch';
    throw new UpgradeRefusedError('unsupported-protocol', `a watch upgrades only to WebSocket, not ${JSON.stringify(upgrade)}`);
  }
  throw new UpgradeRefusedError('not-upgradable',
    'this request cannot switch protocols: only exec, attach, port-forward, proxy and watch requests upgrade; send it without "Connection: Upgrade"');
}
