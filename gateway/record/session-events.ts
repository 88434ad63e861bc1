// What a recorder sees of an exec or attach session, whatever the wire protocol: bytes on one of
// the Kubernetes remote-command streams, and streams that end.

/** The remote-command streams (k8s.io/apimachinery remotecommand constants). */
export type StreamName = 'stdin' | 'stdout' | 'stderr' | 'error' | 'resize';

export type SessionEvent =
  | { readonly kind: 'data'; readonly stream: StreamName; readonly data: Buffer }
  | { readonly kind: 'end'; readonly stream: StreamName };

/** A protocol reader for one upgraded connection: bytes in from either side, session events out. */
export interface SessionReader {
  /** The protocol it reads, e.g. "v5.channel.k8s.io" over WebSocket or "v4.channel.k8s.io" over SPDY/3.1. */
  readonly protocol: string;
  fromClient(chunk: Buffer): SessionEvent[];
  fromServer(chunk: Buffer): SessionEvent[];
}
