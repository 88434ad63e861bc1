// Writes protobuf wire format for tests: the bodies the decoder is fed, built field by field.

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  /** A varint of up to 64 bits (negative numbers as their two's complement, 10 bytes). */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      bytes.push(v === 0n ? low : low | 0x80);
    } while (v !== 0n);
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(BigInt(field) << 3n | BigInt(wire));
  }

  /** A varint field. */
  number(field: number, value: number | bigint | boolean): this {
    return this.tag(field, 0).varint(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }

  /** A length-delimited field. */
  bytes(field: number, value: Buffer | string | ProtoWriter): this {
    const data = value instanceof ProtoWriter ? value.finish() : Buffer.from(value);
    this.tag(field, 2).varint(data.length);
    this.parts.push(data);
    return this;
  }

  /** Bytes as they are, e.g. a malformed tail. */
  raw(data: Buffer): this {
    this.parts.push(data);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A Kubernetes protobuf body: the magic, then runtime.Unknown{typeMeta, raw}. */
export function kubernetesBody(apiVersion: string, kind: string, raw: Buffer | ProtoWriter): Buffer {
  const envelope = new ProtoWriter()
    .bytes(1, new ProtoWriter().bytes(1, apiVersion).bytes(2, kind))
    .bytes(2, raw instanceof ProtoWriter ? raw.finish() : raw);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), envelope.finish()]);
}
