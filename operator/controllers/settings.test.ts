import { describe, expect, it } from 'vitest';
import { parseListenAddress, readSettings, SettingsError } from './settings.ts';

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
      bypassCheckIntervalMs: 300_000,
    });
  });

  it('reads the bypass check interval; 0s turns it off, a bad value is named', () => {
    expect(readSettings({ POD_NAMESPACE: 'a', AIRLOCK_BYPASS_CHECK_INTERVAL: '30s' }).bypassCheckIntervalMs).toBe(30_000);
    expect(readSettings({ POD_NAMESPACE: 'a', AIRLOCK_BYPASS_CHECK_INTERVAL: '0s' }).bypassCheckIntervalMs).toBe(0);
    expect(() => readSettings({ POD_NAMESPACE: 'a', AIRLOCK_BYPASS_CHECK_INTERVAL: 'often' })).toThrow('AIRLOCK_BYPASS_CHECK_INTERVAL must be a duration');
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

describe('operator settings: every problem at once', () => {
  const problems = (env: Record<string, string>): readonly string[] => {
    try {
      readSettings(env);
      return [];
    } catch (error) {
      if (error instanceof SettingsError) return error.problems;
      throw error;
    }
  };

  it('lists every bad variable, not only the first', () => {
    expect(problems({ AIRLOCK_LEADER_ELECTION: 'yes', AIRLOCK_HEALTH_ADDRESS: '8081', AIRLOCK_APPROVAL_RETENTION: '7d', AIRLOCK_APPROVAL_WEBHOOK_URL: 'ftp://x' })).toEqual([
      'AIRLOCK_LEADER_ELECTION must be true or false, got "yes"',
      'POD_NAMESPACE must be set when leader election is on (the Lease lives there); or set AIRLOCK_LEADER_ELECTION=false',
      'AIRLOCK_APPROVAL_WEBHOOK_URL must be an http(s) URL, got "ftp://x"',
      'AIRLOCK_HEALTH_ADDRESS must be [host]:port, got "8081"',
      'AIRLOCK_APPROVAL_RETENTION must be a duration like 168h, 30m or 90s, got "7d"',
    ]);
  });

  it('names a misspelt setting with the one it resembles, and leaves other AIRLOCK_ variables alone', () => {
    expect(problems({ POD_NAMESPACE: 'a', AIRLOCK_APROVAL_RETENTION: '1h', AIRLOCK_CACHE_DIR: '/tmp/x' })).toEqual([
      'AIRLOCK_APROVAL_RETENTION is not a setting; did you mean AIRLOCK_APPROVAL_RETENTION?',
    ]);
  });

  it('reads compound durations as the CRDs write them', () => {
    expect(readSettings({ POD_NAMESPACE: 'a', AIRLOCK_APPROVAL_RETENTION: '1h30m' }).approvalRetentionMs).toBe(5_400_000);
  });
});
