// Reads an API package's register.go: its group and version, and the kinds it registers (each a
// Go type of the package, or of meta/v1 such as Status). Together with meta/v1's own register.go,
// which says what every group version gets from metav1.AddToGroupVersion (WatchEvent, the options
// types) and what is registered unversioned under "v1" (Status...), this gives the kinds a
// protobuf body may name in its envelope.
import { stripGoComments } from './go-structs.ts';

export interface RegisteredKind {
  readonly kind: string;
  /** 'local' for a type of the package itself, 'metav1' for one of apimachinery's meta/v1. */
  readonly from: 'local' | 'metav1';
}

export interface Registration {
  readonly group: string;
  readonly version: string;
  readonly kinds: readonly RegisteredKind[];
  /** Whether addKnownTypes calls metav1.AddToGroupVersion (WatchEvent and the options types). */
  readonly addsMetaTypes: boolean;
}

export interface MetaRegistration {
  /** Registered in every group version by AddToGroupVersion, and in meta.k8s.io/v1. */
  readonly optionsKinds: readonly string[];
  /** AddMetaToScheme: meta.k8s.io/v1 only. */
  readonly metaKinds: readonly string[];
  /** Registered under the unversioned group version "v1" by AddToGroupVersion. */
  readonly unversionedKinds: readonly string[];
}

export class RegisterFileError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'RegisterFileError';
  }
}

function one(code: string, pattern: RegExp, file: string, what: string): string {
  const match = pattern.exec(code);
  if (match?.[1] === undefined) throw new RegisterFileError(file, `cannot find ${what}`);
  return match[1];
}

function functionBody(code: string, name: string, file: string): string {
  const start = code.search(new RegExp(`^func ${name}\\(`, 'm'));
  if (start === -1) throw new RegisterFileError(file, `no func ${name}`);
  const end = code.indexOf('\n}', start);
  return code.slice(start, end === -1 ? code.length : end);
}

/** The `&Type{}` items of a call's or composite literal's argument list. */
function typeItems(text: string): { name: string; metav1: boolean }[] {
  return [...text.matchAll(/&(metav1\.)?([A-Z]\w*)\{\}/g)].map((m) => ({ name: m[2] ?? '', metav1: m[1] !== undefined }));
}

/** Reads one API package's register.go (k8s.io/api/<group>/<version>/register.go). */
export function parseRegisterFile(text: string, file: string): Registration {
  const code = stripGoComments(text);
  const group = one(code, /const GroupName\s*=\s*"([^"]*)"/, file, 'const GroupName');
  const version = one(code, /SchemeGroupVersion\s*=\s*schema\.GroupVersion\{Group:\s*GroupName,\s*Version:\s*"([^"]+)"\}/, file, 'SchemeGroupVersion');
  const body = functionBody(code, 'addKnownTypes', file);
  const kinds: RegisteredKind[] = [];
  for (const call of body.matchAll(/AddKnownTypes\(\s*SchemeGroupVersion,([^)]*)\)/g)) {
    for (const item of typeItems(call[1] ?? '')) kinds.push({ kind: item.name, from: item.metav1 ? 'metav1' : 'local' });
  }
  if (kinds.length === 0) throw new RegisterFileError(file, 'addKnownTypes registers no types');
  const addsMetaTypes = /metav1\.AddToGroupVersion\(scheme,\s*SchemeGroupVersion\)/.test(body);
  return { group, version, kinds, addsMetaTypes };
}

/** Reads apimachinery's meta/v1/register.go. */
export function parseMetaRegisterFile(text: string, file: string): MetaRegistration {
  const code = stripGoComments(text);
  const options = one(code, /var optionsTypes = \[\]runtime\.Object\{([^{}]*(?:\{\}[^{}]*)*)\}/, file, 'optionsTypes');
  const addToGroupVersion = functionBody(code, 'AddToGroupVersion', file);
  if (!/AddKnownTypeWithName\(groupVersion\.WithKind\(WatchEventKind\), &WatchEvent\{\}\)/.test(addToGroupVersion)) {
    throw new RegisterFileError(file, 'AddToGroupVersion no longer registers WatchEvent as expected');
  }
  if (!/AddKnownTypes\(groupVersion, optionsTypes\.\.\.\)/.test(addToGroupVersion)) {
    throw new RegisterFileError(file, 'AddToGroupVersion no longer registers optionsTypes as expected');
  }
  if (one(code, /WatchEventKind = "(\w+)"/, file, 'WatchEventKind') !== 'WatchEvent') throw new RegisterFileError(file, 'WatchEventKind changed');
  if (!/var Unversioned = schema\.GroupVersion\{Group: "", Version: "v1"\}/.test(code)) throw new RegisterFileError(file, 'Unversioned is no longer v1');
  const unversioned = one(addToGroupVersion, /AddUnversionedTypes\(Unversioned,([^)]*)\)/, file, 'the unversioned types');
  const meta = one(functionBody(code, 'AddMetaToScheme', file), /AddKnownTypes\(SchemeGroupVersion,([^)]*)\)/, file, 'AddMetaToScheme types');
  return {
    optionsKinds: typeItems(options).map((t) => t.name),
    metaKinds: typeItems(meta).map((t) => t.name),
    unversionedKinds: typeItems(unversioned).map((t) => t.name),
  };
}
