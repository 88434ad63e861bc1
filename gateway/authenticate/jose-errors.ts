// Maps what jose's jwtVerify throws to the stage's fixed error codes. jose's errors are not kept
// as the cause: some carry the token's claims, which have no place in a log line.
import { errors } from 'jose';
import { AuthenticationError, type AuthenticationErrorCode } from '../../core/identity.ts';

function claimFailure(error: errors.JWTClaimValidationFailed): AuthenticationError {
  if (error.reason === 'missing') return new AuthenticationError('missing_claim', `the "${error.claim}" claim is missing`);
  const byClaim: Readonly<Record<string, AuthenticationErrorCode>> = { iss: 'wrong_issuer', aud: 'wrong_audience', nbf: 'not_yet_valid' };
  const code = byClaim[error.claim] ?? 'invalid_claim';
  return new AuthenticationError(code, `the "${error.claim}" claim was refused: ${error.message}`);
}

export function fromJoseError(error: unknown): AuthenticationError {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError('expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailure(error);
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError('unsupported_algorithm', 'the token is signed with an algorithm that is not allowed');
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthenticationError('unknown_key', 'no signing key of the issuer matches the token');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new AuthenticationError('unknown_key', 'several signing keys of the issuer match the token; it names no kid');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('invalid_signature', 'the token signature does not verify');
  if (error instanceof errors.JOSEError) return new AuthenticationError('invalid_token', `the token is malformed (${error.code})`);
  return new AuthenticationError('invalid_token', 'the token could not be verified');
}
