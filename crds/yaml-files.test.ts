// The API's YAML says what it looks like it says. In a plain scalar, " #" starts a comment, so
// `message: ask #platform` silently becomes "ask"; a repeated key silently drops the first value
// (kubectl keeps the last one). Both are caught here, for the CRDs, the admission policies and
// the samples and the test data.
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isScalar, parseAllDocuments, visit } from 'yaml';

const dirs = [new URL('./', import.meta.url), new URL('./admission/', import.meta.url), new URL('./admission/optional/', import.meta.url), new URL('../config/crd/', import.meta.url), new URL('../config/samples/', import.meta.url), new URL('./testdata/', import.meta.url)];
const files = (await Promise.all(dirs.map(async (dir) =>
  (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f === 'Kustomization').map((f) => new URL(f, dir)))))
  .flat();

describe.each(files.map((url) => [url.pathname.replace(/^.*\/(crds|config)\//, '$1/'), url] as const))('%s', (_name, url) => {
  it('parses with unique keys and no comment inside a value', async () => {
    const docs = parseAllDocuments(await readFile(url, 'utf8'), { uniqueKeys: true });
    const problems: string[] = [];
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      problems.push(...doc.errors.map((e) => e.message));
      visit(doc, {
        Scalar(_key, node) {
          if (isScalar(node) && node.comment !== undefined) problems.push(`"${String(node.value)}" is followed by the comment "#${node.comment}"`);
        },
      });
    }
    expect(problems).toEqual([]);
  });
});
