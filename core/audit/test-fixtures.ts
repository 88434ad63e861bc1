// Builders the audit tests share: a record input with modifiers, temporary directories, keys.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuditRecord, type AuditRecordInput, type UnchainedAuditRecord } from './record.ts';

export function recordInput(overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    level: 'Metadata',
    stage: 'ResponseComplete',
    auditID: '5f0c3a52-8c1e-4d0b-9b7e-1f2a3b4c5d6e',
    requestURI: '/api/v1/namespaces/team-a/configmaps/settings',
    verb: 'get',
    objectRef: { resource: 'configmaps', namespace: 'team-a', name: 'settings', apiGroup: '', apiVersion: 'v1' },
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.34.0',
    caller: { username: 'ci:github:org/repo', groups: ['ci', 'system:authenticated'], extra: {} },
    effective: { username: 'ci:github:org/repo', groups: ['ci', 'system:authenticated'], extra: {} },
    authentication: { method: 'oidc', issuer: 'https://token.actions.githubusercontent.com' },
    decision: { action: 'allow', policy: { namespace: 'airlock', name: 'ci' }, rule: 'read-config', reason: 'rule read-config allows' },
    responseStatus: { code: 200 },
    requestReceived: new Date('2025-06-01T10:00:00.000Z'),
    stageTimestamp: new Date('2025-06-01T10:00:00.012Z'),
    latencyMs: 12,
    gateway: { name: 'ci', namespace: 'airlock', replica: 'ci-gateway-7d9f-abcde' },
    ...overrides,
  };
}

/** A Metadata-level record; `i` makes each one distinct. */
export function sampleRecord(i = 0, overrides: Partial<AuditRecordInput> = {}): UnchainedAuditRecord {
  const record = buildAuditRecord(recordInput({ auditID: `audit-${i}`, requestURI: `/api/v1/namespaces/team-a/configmaps/c${i}`, ...overrides }));
  if (record === undefined) throw new Error('level None builds no record');
  return record;
}

export function tempDir(prefix = 'airlock-audit-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface KeyFiles {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly publicKeyPem: string;
}

/** Writes an Ed25519 key pair as PEM files into `dir`. */
export async function writeEd25519Keys(dir: string, name = 'checkpoint'): Promise<KeyFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = join(dir, `${name}.key`);
  const publicPath = join(dir, `${name}.pub`);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await writeFile(publicPath, publicKeyPem);
  return { privateKey: privatePath, publicKey: publicPath, publicKeyPem };
}

/** The file's lines, parsed. */
export async function readEntries(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
