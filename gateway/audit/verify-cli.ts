// node gateway/audit/verify-cli.ts [--public-key FILE] FILE...
// Exit 0: the chain holds ("ok: N records, M checkpoints verified"). Exit 1: it breaks
// ("BROKEN: file:line (seq S): reason", the first broken entry). Exit 2: bad usage.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CheckpointKeyError, describeError } from '../../core/audit/errors.ts';
import { verifyAuditFiles, type VerifyOptions } from '../../core/audit/verify.ts';

const USAGE = 'usage: node gateway/audit/verify-cli.ts [--public-key FILE] FILE... (audit files, oldest first, e.g. audit.log.* audit.log)';

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

const consoleOutput: CliOutput = {
  out: (line) => { console.log(line); },
  err: (line) => { console.error(line); },
};

type Parsed = { readonly help: true } | { readonly help: false; readonly files: string[]; readonly publicKey?: string };

function parse(argv: readonly string[]): Parsed | { readonly problem: string } {
  let values: { 'public-key'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv], allowPositionals: true, strict: true,
      options: { 'public-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    return { problem: describeError(error) };
  }
  if (values.help === true) return { help: true };
  if (positionals.length === 0) return { problem: 'no audit files given' };
  const publicKey = values['public-key'];
  return { help: false, files: positionals, ...(publicKey === undefined ? {} : { publicKey }) };
}

export async function runVerifyCli(argv: readonly string[], io: CliOutput = consoleOutput): Promise<number> {
  const parsed = parse(argv);
  if ('problem' in parsed) {
    io.err(`${parsed.problem}; ${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.out(USAGE);
    return 0;
  }
  const options: { -readonly [K in keyof VerifyOptions]: VerifyOptions[K] } = {};
  if (parsed.publicKey !== undefined) {
    try {
      options.publicKeyPem = await readFile(parsed.publicKey);
    } catch (error) {
      io.err(`cannot read the public key ${parsed.publicKey} (${describeError(error)}); pass the Ed25519 public key (PEM) that verifies the checkpoints`);
      return 2;
    }
  }
  try {
    const result = await verifyAuditFiles(parsed.files, options);
    if (result.ok) {
      io.out(`ok: ${result.records} records, ${result.checkpoints} checkpoints verified`);
      return 0;
    }
    io.out(`BROKEN: ${result.file}:${result.line} (seq ${result.seq ?? '?'}): ${result.reason}`);
    return 1;
  } catch (error) {
    const fix = error instanceof CheckpointKeyError ? '' : '; pass existing, readable audit files, oldest first';
    io.err(`${describeError(error)}${fix}`);
    return 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await runVerifyCli(process.argv.slice(2));
}
