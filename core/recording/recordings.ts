// Reading the recordings directory back: list sessions, find one by audit id (or a unique prefix),
// and check each recording against the SHA-256 its audit record carries. The audit chain vouches
// for the record, the record for the recording.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseCast, type CastEvent, type ParsedCast } from './asciicast.ts';

export interface SessionSummary {
  readonly auditID: string;
  readonly file: string;
  readonly startedAt: Date;
  readonly user: string;
  readonly effectiveUser?: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container?: string;
  readonly command?: string;
  readonly subresource: string;
  /** From the end marker; undefined while a session is still being recorded (or was cut off). */
  readonly durationMs?: number;
  /** The end marker's text, e.g. "exit 0". */
  readonly ending?: string;
}

const CAST = '.cast';

export function summarize(file: string, cast: ParsedCast): SessionSummary {
  const meta = cast.header.airlock;
  const last: CastEvent | undefined = cast.events.at(-1);
  const ended = last !== undefined && last[1] === 'm' ? last : undefined;
  return {
    auditID: meta.auditID, file, startedAt: new Date(cast.header.timestamp * 1000), user: meta.user,
    ...(meta.effectiveUser === undefined ? {} : { effectiveUser: meta.effectiveUser }),
    namespace: meta.namespace, pod: meta.pod, ...(meta.container === undefined ? {} : { container: meta.container }),
    ...(cast.header.command === undefined ? {} : { command: cast.header.command }),
    subresource: meta.subresource,
    ...(ended === undefined ? {} : { durationMs: Math.round(ended[0] * 1000), ending: ended[2] }),
  };
}

/** Every recording in `dir`, oldest first. Unreadable files are reported, not skipped silently. */
export async function listSessions(dir: string): Promise<{ sessions: SessionSummary[]; unreadable: { file: string; reason: string }[] }> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(CAST)).sort();
  const sessions: SessionSummary[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  for (const file of files) {
    try {
      sessions.push(summarize(file, parseCast(await readFile(join(dir, file), 'utf8'))));
    } catch (error) {
      unreadable.push({ file, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  sessions.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.auditID.localeCompare(b.auditID));
  return { sessions, unreadable };
}

/** The path of the recording whose audit id is `id` or starts with it; throws when none or several match. */
export async function findRecording(dir: string, id: string): Promise<string> {
  const wanted = basename(id).replace(/\.cast$/, '');
  const matches = (await readdir(dir)).filter((name) => name.endsWith(CAST) && name.startsWith(wanted));
  if (matches.length === 0) throw new Error(`no recording ${wanted} in ${dir}`);
  if (matches.length > 1) throw new Error(`${matches.length} recordings in ${dir} start with ${wanted}; give more of the audit id`);
  return join(dir, matches[0] ?? '');
}

export interface RecordedSession {
  readonly auditID: string;
  readonly seq: number | undefined;
  readonly file: string;
  readonly sha256: string;
}

/** The sessions an audit file says were recorded (ResponseComplete records with session.recording), in order. */
export function recordedSessions(auditText: string): RecordedSession[] {
  const out: RecordedSession[] = [];
  for (const line of auditText.split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as { kind?: string; auditID?: string; seq?: number; session?: { recording?: { file?: string; sha256?: string } } };
    const recording = record.session?.recording;
    if (record.kind !== 'AuditRecord' || recording?.file === undefined || recording.sha256 === undefined) continue;
    out.push({ auditID: record.auditID ?? '', seq: record.seq, file: recording.file, sha256: recording.sha256 });
  }
  return out;
}

export type RecordingCheck =
  | { readonly ok: true; readonly checked: number }
  | { readonly ok: false; readonly checked: number; readonly session: RecordedSession; readonly reason: string };

/** Compares each recorded session's file with the SHA-256 in its audit record; stops at the first that differs. */
export async function verifyRecordings(sessions: readonly RecordedSession[], dir: string): Promise<RecordingCheck> {
  let checked = 0;
  for (const session of sessions) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, basename(session.file)));
    } catch {
      return { ok: false, checked, session, reason: `the recording ${session.file} is missing from ${dir}` };
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== session.sha256) return { ok: false, checked, session, reason: `the recording ${session.file} has SHA-256 ${actual}, its audit record says ${session.sha256}` };
    checked += 1;
  }
  return { ok: true, checked };
}

/**
 * Recordings in `dir` that no given audit record names: a session still running, one cut off when
 * the gateway stopped (its ResponseComplete record, which carries the SHA-256, was never written),
 * or one whose record is in an audit file not given. The chain vouches for none of them.
 */
export async function unnamedRecordings(sessions: readonly RecordedSession[], dir: string): Promise<string[]> {
  const named = new Set(sessions.map((s) => basename(s.file)));
  return (await readdir(dir)).filter((name) => name.endsWith(CAST) && !named.has(name)).sort();
}

/** Output events to print for a replay: [delay before it in ms, text], pauses capped at idleLimitMs, scaled by speed. */
export function replaySchedule(events: readonly CastEvent[], options: { speed: number; idleLimitMs: number }): [number, string][] {
  const out: [number, string][] = [];
  let previous = 0;
  for (const [t, code, data] of events) {
    if (code !== 'o') continue;
    const gap = Math.min(Math.max(0, t * 1000 - previous), options.idleLimitMs);
    previous = t * 1000;
    out.push([gap / options.speed, data]);
  }
  return out;
}
