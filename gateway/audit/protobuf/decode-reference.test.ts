// The decoder against apimachinery itself (testdata/go-reference: client-go's scheme, the protobuf
// serializer the API server uses, encoding/json): thousands of seeded random bodies of every kind,
// and random quantity strings. Where Go writes JSON the decoder writes the same value; where Go
// fails the decoder fails (the body is then kept as its digest); the decoder may refuse where Go
// does not only for the reasons listed in ALLOWED_REFUSALS, each a value JSON cannot carry exactly.
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/test-random.ts';
import { createProtobufBodyDecoder, ProtobufBodyError } from './decode-body.ts';
import { quantityJson } from './quantity.ts';
import { formatDuration } from './go-time.ts';
import { protobufSchema } from './schema.ts';
import { buildGoReference, type GoReference } from './test-support/go-reference.ts';
import { randomBodies, randomQuantity } from './test-support/random-body.ts';

const ALLOWED_REFUSALS = [
  /beyond what JSON numbers hold exactly/, // an int64 past 2^53 (JSON.parse would round it)
  /outside the years 1 to 9999/,
  /map key .* is not valid UTF-8/, // two invalid keys would become the same JSON key
  /exponent out of range/,
];

let go: GoReference;
beforeAll(async () => { go = await buildGoReference(); }, 600_000);
afterAll(async () => { await go.dispose(); });

function attempt(f: () => unknown): { value: unknown } | { refused: string } {
  try {
    return { value: f() };
  } catch (error) {
    if (error instanceof ProtobufBodyError) return { refused: error.reason };
    throw error;
  }
}

describe('the protobuf decoder against apimachinery', () => {
  it.each([1, 2, 3])('writes the JSON Go writes for 1500 random bodies of every kind (seed %i)', async (seed) => {
    const schema = protobufSchema();
    const bodies = randomBodies(schema, seededRandom(seed), 1500);
    const answers = await go.ask(bodies.map((b) => `b ${b.body.toString('hex')}`));
    const decode = createProtobufBodyDecoder(schema);
    let compared = 0;
    bodies.forEach(({ apiVersion, kind, body }, i) => {
      const answer = answers[i] ?? '';
      const ours = attempt(() => decode(body));
      const where = `body ${String(i)} (${apiVersion} ${kind}): ${body.toString('hex')}`;
      // Kinds client-go does not register (AdmissionReview...) never reach an API server as a body.
      if (/no kind .* is registered/.test(answer)) return;
      if (answer.startsWith('ERR ')) {
        expect(ours, `${where}: Go refused (${answer}) but the decoder wrote a value`).toHaveProperty('refused');
        return;
      }
      if ('refused' in ours) {
        expect(ALLOWED_REFUSALS.some((r) => r.test(ours.refused)), `${where}: refused "${ours.refused}" where Go wrote ${answer.slice(0, 300)}`).toBe(true);
        return;
      }
      if (!isDeepStrictEqual(ours.value, JSON.parse(answer))) expect(ours.value, where).toEqual(JSON.parse(answer));
      compared++;
    });
    // Most bodies decode: the comparison is not vacuous.
    expect(compared).toBeGreaterThan(bodies.length * 0.6);
  }, 120_000);

  it('writes every quantity as Go writes it, canonical or kept as given', async () => {
    const rng = seededRandom(7);
    const inputs = [
      '1000E', '010', '+1', '1.0', '1024Ki', '0.5Ki', '1e400', '1.', '.5', '-0', '00', '100m', '1.5', '1536Ki', '-2Ki', '0.1Ki', '1n', '0.0000000001',
      '123456789012345678901234567890', '9223372036854775807', '9223372036854775808', '9223372036854775808Ki', '8Ei', '16Ei', '1e-10', '-1e-10', '1e4294967296',
      ...Array.from({ length: 5000 }, () => randomQuantity(rng)),
    ];
    const answers = await go.ask(inputs.map((q) => `q ${Buffer.from(q).toString('hex')}`));
    inputs.forEach((input, i) => {
      const answer = answers[i] ?? '';
      const ours = attempt(() => quantityJson(input));
      if (answer.startsWith('ERR ')) expect(ours, `quantity ${JSON.stringify(input)}: Go refused it`).toHaveProperty('refused');
      else if ('refused' in ours) expect(ours.refused, `quantity ${JSON.stringify(input)}: Go wrote ${answer}`).toMatch(/exponent out of range/);
      else expect(ours.value, `quantity ${JSON.stringify(input)}`).toBe(JSON.parse(answer));
    });
  });

  it('writes durations as Go writes them', async () => {
    const rng = seededRandom(11);
    const inputs = [0n, 1n, -1n, 999n, 1000n, 1500n, 999999n, 1000000n, 1500000n, 999999999n, 1000000000n, 1500000000n, 60000000000n, 3600000000000n, 5400000000123n,
      (1n << 63n) - 1n, -(1n << 63n), ...Array.from({ length: 500 }, () => BigInt(Math.floor((rng() - 0.5) * 2 ** 53)) * BigInt(Math.floor(rng() * 1000)))]
      .map((n) => BigInt.asIntN(64, n));
    const answers = await go.ask(inputs.map((n) => `d ${n.toString()}`));
    inputs.forEach((n, i) => { expect(formatDuration(n), `duration ${n.toString()}`).toBe(JSON.parse(answers[i] ?? '')); });
  });
});
