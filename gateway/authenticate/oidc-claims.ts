// Verified JWT claims → the caller's identity, as kube-apiserver's claim mappings do it (claim and
// prefix forms; no CEL). Only claims named for policy leave this module.
import type { JWTPayload } from 'jose';
import { AuthenticationError, type UserInfo } from '../../core/identity.ts';

export interface ClaimMapping {
  readonly usernameClaim: string;
  readonly usernamePrefix: string;
  readonly uidClaim?: string;
  readonly groupsClaim?: string;
  readonly groupsPrefix: string;
  readonly requiredClaims: Readonly<Record<string, string>>;
  readonly claimsForPolicy: readonly string[];
}

export interface MappedClaims {
  readonly user: UserInfo;
  readonly claims: Readonly<Record<string, unknown>>;
}

function checkRequiredClaims(payload: JWTPayload, required: Readonly<Record<string, string>>): void {
  for (const [claim, expected] of Object.entries(required)) {
    if (!Object.hasOwn(payload, claim)) throw new AuthenticationError('missing_claim', `the required "${claim}" claim is missing`);
    if (payload[claim] !== expected) throw new AuthenticationError('invalid_claim', `the required "${claim}" claim does not have the configured value`);
  }
}

function stringClaim(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (value === undefined) throw new AuthenticationError('missing_claim', `the "${claim}" claim is missing`);
  if (typeof value !== 'string' || value === '') throw new AuthenticationError('invalid_claim', `the "${claim}" claim must be a non-empty string`);
  return value;
}

function username(payload: JWTPayload, mapping: ClaimMapping): string {
  const name = mapping.usernamePrefix + stringClaim(payload, mapping.usernameClaim);
  if (mapping.usernameClaim === 'email' && Object.hasOwn(payload, 'email_verified') && payload['email_verified'] !== true) {
    throw new AuthenticationError('invalid_claim', 'the "email" claim is used as username but "email_verified" is not true');
  }
  // The gateway impersonates this name: a token must never make itself a system user.
  if (name.startsWith('system:')) throw new AuthenticationError('invalid_claim', 'the mapped username must not start with "system:"');
  return name;
}

function groups(payload: JWTPayload, mapping: ClaimMapping): string[] {
  if (mapping.groupsClaim === undefined) return [];
  const value = payload[mapping.groupsClaim];
  if (value === undefined) return [];
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [undefined];
  if (list.some((g) => typeof g !== 'string')) {
    throw new AuthenticationError('invalid_claim', `the "${mapping.groupsClaim}" claim must be a string or a list of strings`);
  }
  const mapped = [...new Set((list as string[]).map((g) => mapping.groupsPrefix + g))];
  // e.g. `system:masters` through an unprefixed groups claim would be cluster-admin.
  if (mapped.some((g) => g.startsWith('system:'))) {
    throw new AuthenticationError('invalid_claim', `the "${mapping.groupsClaim}" claim must not map to a "system:" group`);
  }
  return mapped;
}

function policyClaims(payload: JWTPayload, names: readonly string[]): Readonly<Record<string, unknown>> {
  const picked: Record<string, unknown> = {};
  for (const name of names) {
    if (Object.hasOwn(payload, name)) picked[name] = structuredClone(payload[name]);
  }
  return Object.freeze(picked);
}

export function mapClaims(payload: JWTPayload, mapping: ClaimMapping): MappedClaims {
  checkRequiredClaims(payload, mapping.requiredClaims);
  const uid = mapping.uidClaim === undefined ? undefined : stringClaim(payload, mapping.uidClaim);
  return {
    user: {
      username: username(payload, mapping),
      ...(uid === undefined ? {} : { uid }),
      groups: groups(payload, mapping),
      extra: {},
    },
    claims: policyClaims(payload, mapping.claimsForPolicy),
  };
}
