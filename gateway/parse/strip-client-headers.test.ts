import { describe, expect, it } from 'vitest';
import { BearerTokenError, extractBearerToken, sanitizeClientHeaders, type BearerTokenErrorCode } from './strip-client-headers.ts';

const protocolToken = (token: string): string => `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;

const pairs = (flat: readonly string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

describe('sanitizeClientHeaders', () => {
  it.each([
    ['Authorization', ['Authorization', 'Bearer secret'], ['authorization']],
    ['Authorization in any case', ['aUtHoRiZaTiOn', 'Bearer secret'], ['authorization']],
    ['Proxy-Authorization', ['Proxy-Authorization', 'Basic eDp5'], ['proxy-authorization']],
    ['Impersonate-User', ['Impersonate-User', 'admin'], ['impersonate-user']],
    ['Impersonate-Group', ['impersonate-group', 'system:masters'], ['impersonate-group']],
    ['Impersonate-Uid', ['Impersonate-Uid', '0'], ['impersonate-uid']],
    ['Impersonate-Extra-*', ['Impersonate-Extra-Scopes', 'x'], ['impersonate-extra-scopes']],
    ['an unknown Impersonate-* variant', ['Impersonate-Node', 'n1'], ['impersonate-node']],
    ['X-Remote-User', ['X-Remote-User', 'admin'], ['x-remote-user']],
    ['X-Remote-Group', ['x-remote-group', 'system:masters'], ['x-remote-group']],
    ['X-Remote-Uid', ['X-Remote-Uid', '0'], ['x-remote-uid']],
    ['X-Remote-Extra-*', ['X-Remote-Extra-Scopes', 'x'], ['x-remote-extra-scopes']],
    ['X-Forwarded-For', ['X-Forwarded-For', '10.0.0.1'], ['x-forwarded-for']],
    ['X-Forwarded-Host', ['X-Forwarded-Host', 'evil'], ['x-forwarded-host']],
    ['X-Forwarded-Proto', ['X-Forwarded-Proto', 'http'], ['x-forwarded-proto']],
    ['X-Real-Ip', ['X-Real-Ip', '10.0.0.1'], ['x-real-ip']],
    ['Forwarded', ['Forwarded', 'for=10.0.0.1'], ['forwarded']],
    ['Cookie', ['Cookie', 'session=1'], ['cookie']],
    ['Keep-Alive', ['Keep-Alive', 'timeout=5'], ['keep-alive']],
    ['TE', ['TE', 'trailers'], ['te']],
    ['Trailer', ['Trailer', 'Expires'], ['trailer']],
    ['Transfer-Encoding', ['Transfer-Encoding', 'chunked'], ['transfer-encoding']],
    ['Proxy-Connection', ['Proxy-Connection', 'keep-alive'], ['proxy-connection']],
    ['Host', ['Host', 'gateway.example'], ['host']],
    ['Connection and the headers it names', ['Connection', 'close, X-Debug', 'X-Debug', '1'], ['connection', 'x-debug']],
    ['an Upgrade the caller asked for (reported separately)', ['Connection', 'Upgrade', 'Upgrade', 'websocket'], ['connection', 'upgrade']],
    ['a stray Upgrade without Connection: upgrade', ['Upgrade', 'h2c'], ['upgrade']],
  ])('removes %s', (_name, raw, removed) => {
    const result = sanitizeClientHeaders([...raw, 'Accept', 'application/json']);
    expect(result.headers).toEqual(['Accept', 'application/json']);
    expect(result.removed).toEqual(removed);
  });

  it('keeps everything else, in order, repeated headers as separate lines', () => {
    const raw = ['Accept', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'User-Agent', 'kubectl/v1.35.0', 'Audit-Id', 'a1',
      'Content-Type', 'application/apply-patch+yaml', 'Content-Length', '42', 'X-Stream-Protocol-Version', 'v4.channel.k8s.io',
      'X-Stream-Protocol-Version', 'v3.channel.k8s.io', 'Accept-Encoding', 'gzip'];
    expect(sanitizeClientHeaders(raw)).toEqual({ headers: raw, upgrade: undefined, removed: [] });
  });

  it.each([
    ['drops the token entry and keeps the others', `v5.channel.k8s.io, ${protocolToken('t')}, v4.channel.k8s.io`, 'v5.channel.k8s.io, v4.channel.k8s.io', true],
    ['drops a token entry whatever its case', `BASE64URL.bearer.authorization.k8s.io.dA, v4.channel.k8s.io`, 'v4.channel.k8s.io', true],
    ['drops the header when only the token was in it', protocolToken('t'), undefined, true],
    ['leaves a header without a token byte for byte', 'v5.channel.k8s.io,v4.channel.k8s.io', 'v5.channel.k8s.io,v4.channel.k8s.io', false],
  ])('Sec-WebSocket-Protocol: %s', (_name, value, kept, stripped) => {
    const result = sanitizeClientHeaders(['Sec-WebSocket-Protocol', value]);
    expect(result.headers).toEqual(kept === undefined ? [] : ['Sec-WebSocket-Protocol', kept]);
    expect(result.removed).toEqual(stripped ? ['sec-websocket-protocol'] : []);
  });

  it.each([
    ['a WebSocket exec keeps the upgrade when asked', ['Connection', 'Upgrade', 'Upgrade', 'websocket'], true,
      { upgrade: 'websocket', forwarded: [['Connection', 'Upgrade'], ['Upgrade', 'websocket']] }],
    ['a SPDY exec keeps the upgrade when asked', ['connection', 'keep-alive, upgrade', 'upgrade', 'SPDY/3.1'], true,
      { upgrade: 'SPDY/3.1', forwarded: [['Connection', 'Upgrade'], ['Upgrade', 'SPDY/3.1']] }],
    ['a plain request never forwards an upgrade', ['Connection', 'Upgrade', 'Upgrade', 'websocket'], false, { upgrade: 'websocket', forwarded: [] }],
    ['Upgrade without Connection: upgrade is no upgrade', ['Upgrade', 'websocket'], true, { upgrade: undefined, forwarded: [] }],
    ['Connection: upgrade without Upgrade is no upgrade', ['Connection', 'upgrade'], true, { upgrade: undefined, forwarded: [] }],
  ] as const)('%s', (_name, raw, keepUpgrade, expected) => {
    const result = sanitizeClientHeaders(raw, { keepUpgrade });
    expect(result.upgrade).toBe(expected.upgrade);
    expect(pairs(result.headers)).toEqual(expected.forwarded);
  });
});

const wsHeaders = (protocol: string): Record<string, string[]> =>
  ({ connection: ['Upgrade'], upgrade: ['websocket'], 'sec-websocket-protocol': [protocol] });

describe('extractBearerToken', () => {
  it.each([
    ['no credential at all', {}, undefined],
    ['a Bearer header', { authorization: ['Bearer abc.def-ghi_jkl'] }, 'abc.def-ghi_jkl'],
    ['the scheme in any case, names in any case', { Authorization: ['bEaReR tok=='] }, 'tok=='],
    ['surrounding whitespace is trimmed', { authorization: ['  Bearer tok  '] }, 'tok'],
    ['a WebSocket subprotocol token (kubectl exec over WebSocket)', wsHeaders(`${protocolToken('eyJhbGciOi.x.y')}, v5.channel.k8s.io`), 'eyJhbGciOi.x.y'],
    ['a subprotocol token split over two header lines', { connection: ['upgrade'], upgrade: ['WebSocket'], 'sec-websocket-protocol': [protocolToken('t1'), 'v4.channel.k8s.io'] }, 't1'],
    ['the same token in both places', { ...wsHeaders(`${protocolToken('same')}, v5.channel.k8s.io`), authorization: ['Bearer same'] }, 'same'],
    ['a subprotocol token on a request that is not a WebSocket upgrade is ignored', { 'sec-websocket-protocol': [`${protocolToken('t')}, v5.channel.k8s.io`] }, undefined],
    ['an entry whose prefix differs in case is not a token (as in the API server)', wsHeaders('BASE64URL.bearer.authorization.k8s.io.dA, v5.channel.k8s.io'), undefined],
  ])('%s', (_name, headers, token) => {
    expect(extractBearerToken(headers)).toBe(token);
  });

  it.each([
    ['two Authorization headers', { authorization: ['Bearer a', 'Bearer b'] }, 'multiple-authorization', 'more than one Authorization header'],
    ['two Authorization headers differing in case', { Authorization: ['Bearer a'], authorization: ['Bearer a'] }, 'multiple-authorization', 'more than one Authorization header'],
    ['a Basic credential', { authorization: ['Basic dXNlcjpwYXNz'] }, 'unsupported-scheme', 'the Authorization scheme must be Bearer'],
    ['a bare token without a scheme', { authorization: ['abc.def'] }, 'unsupported-scheme', 'the Authorization scheme must be Bearer'],
    ['Bearer without a token', { authorization: ['Bearer'] }, 'empty-token', 'the bearer token is empty'],
    ['Bearer and a space', { authorization: ['Bearer '] }, 'empty-token', 'the bearer token is empty'],
    ['an empty Authorization header', { authorization: [''] }, 'empty-token', 'the bearer token is empty'],
    ['two spaces before the token', { authorization: ['Bearer  tok'] }, 'malformed-token', 'the bearer token has characters a token cannot have'],
    ['a second word after the token', { authorization: ['Bearer tok extra'] }, 'malformed-token', 'the bearer token has characters a token cannot have'],
    ['two subprotocol tokens', wsHeaders(`${protocolToken('a')}, ${protocolToken('b')}, v5.channel.k8s.io`), 'multiple-protocol-tokens', 'more than one bearer token subprotocol'],
    ['a subprotocol token alone', wsHeaders(protocolToken('a')), 'missing-subprotocol', 'a bearer token subprotocol needs another subprotocol beside it'],
    ['padded base64url', wsHeaders('base64url.bearer.authorization.k8s.io.dA==, v5.channel.k8s.io'), 'bad-protocol-token', 'the WebSocket bearer token is not unpadded base64url'],
    ['standard base64 characters', wsHeaders('base64url.bearer.authorization.k8s.io.a+b/, v5.channel.k8s.io'), 'bad-protocol-token', 'the WebSocket bearer token is not unpadded base64url'],
    ['an impossible base64 length', wsHeaders('base64url.bearer.authorization.k8s.io.abcde, v5.channel.k8s.io'), 'bad-protocol-token', 'the WebSocket bearer token is not unpadded base64url'],
    ['a token that is not UTF-8', wsHeaders('base64url.bearer.authorization.k8s.io._w, v5.channel.k8s.io'), 'bad-protocol-token', 'the WebSocket bearer token is not UTF-8'],
    ['an empty subprotocol token', wsHeaders('base64url.bearer.authorization.k8s.io., v5.channel.k8s.io'), 'empty-token', 'the bearer token is empty'],
    ['different tokens in the two places', { ...wsHeaders(`${protocolToken('a')}, v5.channel.k8s.io`), authorization: ['Bearer b'] }, 'conflicting-tokens',
      'the Authorization header and the WebSocket subprotocol carry different tokens'],
  ] as const)('refuses %s', (_name, headers, code, message) => {
    const act = (): unknown => extractBearerToken(headers);
    expect(act).toThrow(BearerTokenError);
    expect(act).toThrow(expect.objectContaining({ name: 'BearerTokenError', code, message }) as Error);
  });

  it('never puts the token in an error message', () => {
    const codes: BearerTokenErrorCode[] = [];
    for (const headers of [{ authorization: ['Basic c2VjcmV0'] }, { authorization: ['Bearer sec ret'] }, { ...wsHeaders(`${protocolToken('secret')}, x`), authorization: ['Bearer other'] }]) {
      try {
        extractBearerToken(headers);
      } catch (error) {
        if (!(error instanceof BearerTokenError)) throw error;
        codes.push(error.code);
        expect(error.message).not.toMatch(/secret|c2VjcmV0|sec ret|other/);
      }
    }
    expect(codes).toEqual(['unsupported-scheme', 'malformed-token', 'conflicting-tokens']);
  });
});
