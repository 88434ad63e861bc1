// Structured logs (pino, JSON lines on stdout). Redaction is a second line of defence: code never
// puts a token into a log object or message in the first place.
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'headers["sec-websocket-protocol"]',
  '*.token',
  '*.bearerToken',
  '*.password',
  '*.client_secret',
  'status.token',
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'airlock-gateway',
    level: options.level ?? process.env['AIRLOCK_LOG_LEVEL'] ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, options.destination ?? process.stdout);
}
