// What an upgrade request asks for, read from its URL: exec's command, the container, whether it
// has a terminal and stdin (exec and attach), or the ports (port-forward).
import { MASKED_TEXT } from '../mask/mask-plan.ts';
import type { RequestAttributes } from '../../core/policy/model.ts';

export type SessionTarget =
  | { readonly kind: 'exec' | 'attach'; readonly command: readonly string[]; readonly container?: string; readonly tty: boolean; readonly stdin: boolean }
  | { readonly kind: 'portforward'; readonly ports: readonly string[] }
  | { readonly kind: 'other' };

const truthy = (value: string | null): boolean => value === 'true' || value === '1';

export function sessionTarget(attributes: RequestAttributes, url: string): SessionTarget {
  if (attributes.resource !== 'pods') return { kind: 'other' };
  const query = new URL(url, 'https://gateway.invalid').searchParams;
  if (attributes.subresource === 'portforward') return { kind: 'portforward', ports: query.getAll('ports') };
  if (attributes.subresource !== 'exec' && attributes.subresource !== 'attach') return { kind: 'other' };
  const container = query.get('container');
  return {
    kind: attributes.subresource,
    command: query.getAll('command'),
    ...(container === null || container === '' ? {} : { container }),
    tty: truthy(query.get('tty')),
    stdin: truthy(query.get('stdin')),
  };
}

/** A command as a shell would show it, each argument quoted when it needs to be. */
export function commandLine(command: readonly string[]): string {
  return command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * The request URI with policy masks applied to exec's command arguments, for the audit record: a
 * secret typed on the command line is masked there as in the recording. Other URIs are unchanged.
 */
export function maskCommandInUri(uri: string, patterns: readonly RegExp[]): string {
  if (patterns.length === 0 || !uri.includes('command=')) return uri;
  const url = new URL(uri, 'https://gateway.invalid');
  const commands = url.searchParams.getAll('command');
  if (commands.length === 0) return uri;
  const masked = commands.map((arg) => patterns.reduce((out, p) => out.replace(new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`), MASKED_TEXT), arg));
  url.searchParams.delete('command');
  for (const arg of masked) url.searchParams.append('command', arg);
  return `${url.pathname}${url.search}`;
}
