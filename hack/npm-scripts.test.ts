// The npm scripts are the entry points the README prints: each runs a file that exists, on the
// project's Node (npm puts node_modules/.bin first), and the gateway's and the operator's with their
// Node flags from their homes (core/config/gateway-runtime-flags.ts, operator/runtime-flags.ts), as the
// Deployments and the image pass them.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../core/config/gateway-runtime-flags.ts';
import { OPERATOR_NODE_FLAGS } from '../operator/runtime-flags.ts';

const root = new URL('../', import.meta.url);
const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('npm scripts', () => {
  it('start the gateway and the operator with their Node flags', () => {
    expect(scripts['gateway']).toBe(`node ${GATEWAY_NODE_FLAGS.join(' ')} gateway/main.ts`);
    expect(scripts['operator']).toBe(`node ${OPERATOR_NODE_FLAGS.join(' ')} operator/main.ts`);
  });

  it.each(Object.entries(scripts).filter(([, command]) => command.startsWith('node ')))('%s runs a file that exists', (_name, command) => {
    const file = command.split(' ').find((word) => word.endsWith('.ts'));
    expect(file).toBeDefined();
    expect(existsSync(new URL(file ?? '', root))).toBe(true);
  });
});
