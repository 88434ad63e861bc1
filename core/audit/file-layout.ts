// Where the file sink's files live. The active file keeps the configured name (`audit.log`); on
// rotation it is renamed once, to `audit.log.<seq of its first entry, 16 digits>`. Names carry
// the chain position, so they sort oldest first (a shell glob `audit.log.*` lists them in chain
// order), no file is renamed twice, a clock step cannot misorder them, and the verifier can check
// that a rotated file still starts where its name says.
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const SEQ_DIGITS = 16;

export function rotatedFileName(activePath: string, firstSeq: number): string {
  return `${activePath}.${String(firstSeq).padStart(SEQ_DIGITS, '0')}`;
}

/** The first seq a rotated file's name promises, or undefined for any other name. */
export function firstSeqFromName(path: string): number | undefined {
  const match = /\.(\d{16})$/.exec(path);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export interface RotatedFile {
  readonly path: string;
  readonly firstSeq: number;
}

/** The rotated files beside `activePath`, oldest first. */
export async function listRotatedFiles(activePath: string): Promise<RotatedFile[]> {
  const dir = dirname(activePath);
  const prefix = `${basename(activePath)}.`;
  const files: RotatedFile[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || name.length !== prefix.length + SEQ_DIGITS) continue;
    const firstSeq = firstSeqFromName(name);
    if (firstSeq !== undefined) files.push({ path: join(dir, name), firstSeq });
  }
  return files.sort((a, b) => a.firstSeq - b.firstSeq);
}
