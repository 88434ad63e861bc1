// Recording one exec or attach session, from the policy's recording mode to the audit fields:
//
//   None      nothing is recorded.
//   Optional  recorded when the recorder can (a sink that cannot be written or a protocol it
//             cannot read leaves the session running, unrecorded, and the audit record says why).
//   Required  never unrecorded: refused with a Status before anything runs when the recording file
//             cannot be created or the client offers no protocol the recorder reads; only readable
//             protocols are offered to the API server; a write or read failure mid-session ends it.
import type { OutgoingHttpHeaders } from 'node:http';
import type { AuditSession } from '../../core/audit/record.ts';
import type { RecordingMode } from '../../core/policy/model.ts';
import type { UpgradeTap } from '../forward/upgrade-forward.ts';
import type { SessionMetadata } from '../../core/recording/asciicast.ts';
import type { SessionReader } from './session-events.ts';
import { readableOffer, sessionReaderFor } from './session-protocol.ts';
import { SessionRecorder } from './session-recorder.ts';
import { compileUserPattern } from '../../core/policy/user-pattern.ts';

export type CaptureResult = Pick<AuditSession, 'protocol' | 'exitCode' | 'recording' | 'recordingError'>;

export interface Capture {
  readonly tap: UpgradeTap;
  /** Ends the recording (fsynced) and says what to put in the audit record. */
  finish(): Promise<CaptureResult>;
}

export type CaptureStart =
  | { readonly ok: true; readonly headers: OutgoingHttpHeaders; readonly capture: Capture | undefined; readonly recordingError?: string }
  | { readonly ok: false; readonly code: 400 | 503; readonly message: string };

export interface CaptureRequest {
  readonly mode: RecordingMode;
  /** The recordings directory (gateway config recording.dir); undefined: not configured. */
  readonly dir: string | undefined;
  /** Which rule asked for Required, for the refusal message. */
  readonly rule: string;
  readonly metadata: SessionMetadata;
  readonly command: string | undefined;
  /** Policy masks for the recorded text (rule mask.sessionPatterns), already validated by the operator. */
  readonly maskPatterns?: readonly string[] | undefined;
  readonly headers: OutgoingHttpHeaders;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function startCapture(request: CaptureRequest): Promise<CaptureStart> {
  const required = request.mode === 'Required';
  const refuse = (code: 400 | 503, why: string): CaptureStart => ({ ok: false, code, message: `Session recording is required by ${request.rule}, and ${why}; the session was not started.` });
  const unrecorded = (why: string): CaptureStart => ({ ok: true, headers: request.headers, capture: undefined, recordingError: why });
  if (request.mode === 'None') return { ok: true, headers: request.headers, capture: undefined };
  if (request.dir === undefined) return required ? refuse(503, 'this gateway has no recording sink (recording.dir)') : unrecorded('no recording sink is configured');
  let headers = request.headers;
  if (required) {
    const offer = readableOffer(request.headers);
    if (!offer.readable) return refuse(400, `none of the offered protocols (${offer.offered.join(', ') || 'none'}) can be recorded`);
    headers = offer.headers;
  }
  let recorder: SessionRecorder;
  try {
    recorder = await SessionRecorder.open({
      dir: request.dir, metadata: request.metadata, maskPatterns: (request.maskPatterns ?? []).map((p) => compileUserPattern(p)),
      ...(request.command === undefined ? {} : { command: request.command }),
    });
  } catch (error) {
    return required ? refuse(503, `the recording cannot be written (${message(error)})`) : unrecorded(`the recording cannot be written: ${message(error)}`);
  }
  return { ok: true, headers, capture: capture(recorder, required) };
}

function capture(recorder: SessionRecorder, required: boolean): Capture {
  let reader: SessionReader | undefined;
  let problem: string | undefined;
  let kill: () => void = () => undefined;
  const stop = (why: string): void => {
    problem ??= why;
    reader = undefined;
    if (required) kill();
  };
  const read = (side: 'fromClient' | 'fromServer', chunk: Buffer): void => {
    if (reader === undefined) return;
    try {
      recorder.record(reader[side](chunk));
    } catch (error) {
      stop(`the session's protocol could not be read: ${message(error)}`);
      return;
    }
    if (recorder.failed !== undefined) stop(`the recording could not be written: ${recorder.failed.message}`);
  };
  return {
    tap: {
      upgraded: (rawHeaders, end) => {
        kill = end;
        reader = sessionReaderFor(rawHeaders);
        if (reader === undefined) stop('the API server chose a protocol the recorder cannot read');
        else recorder.setProtocol(reader.protocol);
      },
      fromClient: (chunk) => { read('fromClient', chunk); },
      fromServer: (chunk) => { read('fromServer', chunk); },
    },
    finish: async () => {
      try {
        const summary = await recorder.close();
        return {
          recording: { file: summary.file, sha256: summary.sha256, bytes: summary.bytes },
          ...(summary.protocol === undefined ? {} : { protocol: summary.protocol }),
          ...(summary.exitCode === undefined ? {} : { exitCode: summary.exitCode }),
          ...(problem === undefined ? {} : { recordingError: problem }),
        };
      } catch (error) {
        return { recordingError: problem ?? `the recording could not be written: ${message(error)}` };
      }
    },
  };
}
