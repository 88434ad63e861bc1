import { describe, expect, it } from 'vitest';
import { parseListenAddress, readSettings } from './settings.ts';

describe('operator settings', () => {
  it('reads the manager.yaml defaults', () => {
    expect(readSettings({ POD_NAMESPACE: 'airlock-system' })).toEqual({
      podNamespace: 'airlock-system',
      leaderElection: true,
      healthAddress: { host: undefined, port: 8081 },
      metricsAddress: { host: undefined, port: 8080 },
      gatewayImage: 'airlock:dev',
      approvalRetentionMs: 7 * 24 * 3_600_000,
      approvalWebhookUrl: undefined,
      credentialRevokeAfterMs: 120_000,
    });
  });

  it('reads the approval retention and webhook, refusing bad values with the variable named', () => {
    expect(readSettings({ POD_NAMESPACE: 'a', AIRLOCK_APPROVAL_RETENTION: '30m', AIRLOCK_APPROVAL_WEBHOOK_URL: 'https://hooks.example/T1' }))
      .toMatchObject({ approvalRetentionMs: 1_800_000, approvalWebhookUrl: 'https://hooks.example/T1' });
    expect(() => readSettings({ POD_NAMESPACE: 'a', AIRLOCK_APPROVAL_RETENTION: '7d' })).toThrow(/AIRLOCK_APPROVAL_RETENTION must be a duration/);
    expect(() => readSettings({ POD_NAMESPACE: 'a', AIRLOCK_APPROVAL_WEBHOOK_URL: 'ftp://x' })).toThrow(/AIRLOCK_APPROVAL_WEBHOOK_URL must be an http\(s\) URL/);
  });

  it('parses hosts and refuses bad values', () => {
    expect(parseListenAddress('127.0.0.1:0', 'X')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9', 'X')).toEqual({ host: '::1', port: 9 });
    expect(() => parseListenAddress('8080', 'X')).toThrow(/X must be/);
    expect(() => readSettings({ AIRLOCK_LEADER_ELECTION: 'yes' })).toThrow(/true or false/);
    expect(() => readSettings({})).toThrow(/POD_NAMESPACE/);
    expect(readSettings({ AIRLOCK_LEADER_ELECTION: 'false' }).leaderElection).toBe(false);
  });
});
