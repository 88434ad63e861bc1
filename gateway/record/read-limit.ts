// The bounds the session readers keep: they read bytes a caller chose, in a gateway every caller
// shares, so what one connection can make them hold or compute is capped. A reader that reaches a
// cap throws ReadLimitError; the owner of the connection then ends it or stops reading, as its own
// failure model says (session-capture.ts, port-forward-tap.ts).

export type ReadLimit =
  | 'websocket-message-bytes'
  | 'websocket-fragments'
  | 'spdy-header-block-bytes'
  | 'spdy-header-blocks'
  | 'spdy-header-bytes'
  | 'port-forward-port';

export class ReadLimitError extends Error {
  override readonly name = 'ReadLimitError';
  readonly limit: ReadLimit;

  constructor(limit: ReadLimit, message: string) {
    super(message);
    this.limit = limit;
  }
}
