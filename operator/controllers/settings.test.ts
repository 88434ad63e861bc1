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
    });
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
