// `kubectl airlock sessions | replay | verify`: recorded exec and attach sessions, read from the
// gateway's recordings directory (its volume, or a copy of it) and its audit files. They need no
// cluster access: the files are the evidence.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCast } from '../core/recording/asciicast.ts';
import { findRecording, listSessions, recordedSessions, replaySchedule, unnamedRecordings, verifyRecordings, type SessionSummary } from '../core/recording/recordings.ts';
import { verifyAuditFiles } from '../core/audit/verify.ts';
import { CliError, stringValue, type Invocation, type Subcommand } from './subcommand.ts';

const RECORDINGS_HELP = '--recordings DIR is the gateway\'s recording.dir (or a copy of it, e.g. from kubectl cp).';

function recordingsDir(invocation: Invocation): string {
  const dir = stringValue(invocation.values, 'recordings') ?? process.env['AIRLOCK_RECORDINGS'];
  if (dir === undefined || dir === '') throw new CliError(`say where the recordings are: ${invocation.prog} ${invocation.positionals.length > 0 ? '… ' : ''}--recordings DIR (or set AIRLOCK_RECORDINGS)`);
  return dir;
}

function number(invocation: Invocation, key: string, fallback: number): number {
  const raw = stringValue(invocation.values, key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new CliError(`--${key} must be a positive number, got "${raw}"`);
  return value;
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function sessionTable(sessions: readonly SessionSummary[]): string {
  const rows = sessions.map((s) => [
    s.auditID.slice(0, 8), s.startedAt.toISOString().replace('.000Z', 'Z'),
    s.effectiveUser === undefined ? s.user : `${s.user} as ${s.effectiveUser}`,
    `${s.namespace}/${s.pod}${s.container === undefined ? '' : `:${s.container}`}`, s.subresource,
    s.command ?? '-', duration(s.durationMs), s.ending ?? 'unfinished',
  ]);
  const header = ['SESSION', 'STARTED', 'USER', 'POD', 'KIND', 'COMMAND', 'DURATION', 'END'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export const sessionsCommand: Subcommand = {
  name: 'sessions',
  summary: 'List recorded exec and attach sessions: who, pod, command, when, duration, how they ended',
  usage: '--recordings DIR',
  help: [RECORDINGS_HELP],
  options: { recordings: { type: 'string' } },
  async run(invocation) {
    const dir = recordingsDir(invocation);
    const { sessions, unreadable } = await listSessions(dir).catch((error: unknown) => {
      throw new CliError(`cannot read ${dir} (${error instanceof Error ? error.message : String(error)}); pass the gateway's recordings directory`);
    });
    for (const bad of unreadable) invocation.io.err(`warning: ${bad.file} is not a readable recording: ${bad.reason}\n`);
    if (sessions.length === 0) {
      invocation.io.err(`No recorded sessions in ${dir}.\n`);
      return 0;
    }
    invocation.io.out(sessionTable(sessions));
    return 0;
  },
};

export const replayCommand: Subcommand = {
  name: 'replay',
  summary: 'Replay a recorded session in the terminal with its timing, or print it raw for asciinema',
  usage: 'SESSION --recordings DIR [--speed N] [--idle-limit SECONDS] [--raw]',
  help: [
    'SESSION is the audit id of the exec request (or its first characters, as `sessions` shows).',
    '--speed 2 plays twice as fast; --idle-limit 1 cuts every pause to at most 1 s (default 2).',
    '--raw prints the asciicast v2 file as stored (asciinema play -, or any asciicast player).',
    RECORDINGS_HELP,
  ],
  options: { recordings: { type: 'string' }, speed: { type: 'string' }, 'idle-limit': { type: 'string' }, raw: { type: 'boolean' } },
  completes: 'session',
  async run(invocation) {
    const id = invocation.positionals[0];
    if (id === undefined || invocation.positionals.length > 1) throw new CliError(`name one session: ${invocation.prog} replay SESSION --recordings DIR`);
    const dir = recordingsDir(invocation);
    const path = await findRecording(dir, id).catch((error: unknown) => { throw new CliError(`${error instanceof Error ? error.message : String(error)}; ${invocation.prog} sessions --recordings ${dir} lists them`); });
    const text = await readFile(path, 'utf8');
    if (invocation.values['raw'] === true) {
      invocation.io.out(text);
      return 0;
    }
    const schedule = replaySchedule(parseCast(text).events, { speed: number(invocation, 'speed', 1), idleLimitMs: number(invocation, 'idle-limit', 2) * 1000 });
    for (const [delayMs, data] of schedule) {
      if (delayMs >= 1) await sleep(delayMs);
      invocation.io.out(data);
    }
    return 0;
  },
};

export const verifyCommand: Subcommand = {
  name: 'verify',
  summary: 'Verify the audit trail (hash chain, checkpoints) and every recording it names',
  usage: '--audit FILE[,FILE...] [--recordings DIR] [--public-key FILE]',
  help: [
    'Audit files oldest first (audit.log.1,audit.log). Exit 0 when everything holds; exit 1 naming the first broken record or recording.',
    'Recordings no given audit record names (a session still running or cut off) are listed as warnings.',
    RECORDINGS_HELP,
  ],
  options: { audit: { type: 'string' }, recordings: { type: 'string' }, 'public-key': { type: 'string' } },
  async run(invocation) {
    const files = (stringValue(invocation.values, 'audit') ?? '').split(',').filter((f) => f !== '');
    if (files.length === 0) throw new CliError(`say which audit files to verify: ${invocation.prog} verify --audit audit.log.1,audit.log [--recordings DIR]`);
    const keyFile = stringValue(invocation.values, 'public-key');
    const publicKeyPem = keyFile === undefined ? undefined : await readFile(keyFile).catch(() => { throw new CliError(`cannot read the public key ${keyFile}; pass the Ed25519 public key (PEM) that verifies the checkpoints`); });
    const chain = await verifyAuditFiles(files, publicKeyPem === undefined ? {} : { publicKeyPem }).catch((error: unknown) => {
      throw new CliError(`${error instanceof Error ? error.message : String(error)}; pass existing, readable audit files, oldest first`);
    });
    if (!chain.ok) {
      invocation.io.out(`BROKEN: ${chain.file}:${chain.line} (seq ${chain.seq ?? '?'}): ${chain.reason}\n`);
      return 1;
    }
    const dir = stringValue(invocation.values, 'recordings') ?? process.env['AIRLOCK_RECORDINGS'];
    if (dir === undefined) {
      invocation.io.out(`ok: ${chain.records} records, ${chain.checkpoints} checkpoints verified (recordings not checked: no --recordings)\n`);
      return 0;
    }
    const sessions = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).flatMap(recordedSessions);
    const recordings = await verifyRecordings(sessions, dir);
    if (!recordings.ok) {
      invocation.io.out(`BROKEN: recording of audit record seq ${recordings.session.seq ?? '?'} (${recordings.session.auditID}): ${recordings.reason}\n`);
      return 1;
    }
    invocation.io.out(`ok: ${chain.records} records, ${chain.checkpoints} checkpoints, ${recordings.checked} recordings verified\n`);
    for (const file of await unnamedRecordings(sessions, dir)) {
      invocation.io.err(`warning: ${file} is named by no audit record given (a session still running, one cut off when the gateway stopped, or one in an older audit file): the chain does not vouch for it\n`);
    }
    return 0;
  },
};
