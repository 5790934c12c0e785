/**
 * A streaming msgpack decoder for large answers (the partition CSR export): it decodes one
 * value while the bytes arrive, so the body is never held whole next to its decoded form.
 * Typed arrays (msgpackr's `moreTypes` extension, type 0x74: one type-code byte, then the
 * array's bytes in little-endian order, as src/codec/msgpack.ts writes them) are copied
 * straight from the network chunks into their final buffer. Scalars are decoded
 * synchronously while enough bytes are buffered; only a value that straddles two chunks
 * waits for the next one.
 *
 * It reads what the project's codec writes: nil, booleans, integers, floats, strings,
 * binaries, arrays, maps with string keys (as plain objects) and typed arrays. Any other
 * extension is an error.
 */

/** msgpackr's typed-array extension type ("t"). */
const TYPED_ARRAY_EXT = 0x74;
/** msgpackr's type codes: the index of the constructor in this list. */
const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const MAX_DEPTH = 64;

/** Thrown on bytes that are not msgpack, or a stream that ends inside a value. */
export class MsgpackStreamError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'MsgpackStreamError';
  }
}

/** Bytes from an async source, buffered just enough to decode the next item. */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.buf.buffer);
  pos = 0;
  /** Bytes consumed before `buf` began. */
  private base = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  get offset(): number {
    return this.base + this.pos;
  }

  avail(): number {
    return this.buf.length - this.pos;
  }

  private setBuffer(b: Uint8Array): void {
    this.base += this.pos;
    this.buf = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = 0;
  }

  private async next(): Promise<Uint8Array> {
    const r = await this.source.next();
    if (r.done === true) throw new MsgpackStreamError('the stream ended inside a value', this.offset);
    return r.value;
  }

  /** Make at least n bytes available. */
  async fill(n: number): Promise<void> {
    let have = this.avail();
    if (have >= n) return;
    const parts = [this.buf.subarray(this.pos)];
    while (have < n) {
      const c = await this.next();
      parts.push(c);
      have += c.length;
    }
    const out = new Uint8Array(have);
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    this.setBuffer(out);
  }

  /** Copy exactly dest.length bytes into dest, pulling chunks straight into it. */
  async readInto(dest: Uint8Array): Promise<void> {
    let k = Math.min(dest.length, this.avail());
    dest.set(this.buf.subarray(this.pos, this.pos + k));
    this.pos += k;
    while (k < dest.length) {
      const c = await this.next();
      const take = Math.min(c.length, dest.length - k);
      dest.set(c.subarray(0, take), k);
      k += take;
      this.setBuffer(c);
      this.pos = take;
    }
  }

  /** Whether the source has nothing left (after the decoded value). */
  async atEnd(): Promise<boolean> {
    if (this.avail() > 0) return false;
    for (;;) {
      const r = await this.source.next();
      if (r.done === true) return true;
      if (r.value.length > 0) {
        this.setBuffer(r.value);
        return false;
      }
    }
  }

  u8(): number {
    return this.buf[this.pos++];
  }
  peek(): number {
    return this.buf[this.pos];
  }
  u16(): number {
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): number {
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * 2 ** 32 + lo;
  }
  i8(): number {
    return this.view.getInt8(this.pos++);
  }
  i16(): number {
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.view.getBigInt64(this.pos));
    this.pos += 8;
    return v;
  }
  f32(): number {
    const v = this.view.getFloat32(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }
  /** A big-endian unsigned integer `offset` bytes past the read position, not consumed. */
  bytesAt(offset: number, width: number): number {
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + this.buf[this.pos + offset + i];
    return v;
  }
  bytes(n: number): Uint8Array {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

const decoder = new TextDecoder('utf-8');
/** "Not enough bytes buffered for a synchronous decode." */
const NEED = Symbol('need');

/** Byte length of a scalar's header+payload starting with byte b, or -1 for other kinds. */
function scalarLength(r: ByteReader, b: number): number {
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return 1;
  if ((b & 0xe0) === 0xa0) return 1 + (b & 0x1f);
  switch (b) {
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    case 0xd9:
      return r.avail() >= 2 ? 2 + r.bytesAt(1, 1) : Number.POSITIVE_INFINITY;
    case 0xda:
      return r.avail() >= 3 ? 3 + r.bytesAt(1, 2) : Number.POSITIVE_INFINITY;
    case 0xdb:
      return r.avail() >= 5 ? 5 + r.bytesAt(1, 4) : Number.POSITIVE_INFINITY;
    default:
      return -1;
  }
}

/** Decode a scalar if it is wholly buffered; NEED otherwise (nothing consumed). */
function scalarSync(r: ByteReader): unknown {
  if (r.avail() < 1) return NEED;
  const b = r.peek();
  const len = scalarLength(r, b);
  if (len < 0 || r.avail() < len) return NEED;
  r.pos++;
  if (b <= 0x7f) return b;
  if (b >= 0xe0) return b - 256;
  if ((b & 0xe0) === 0xa0) return decoder.decode(r.bytes(b & 0x1f));
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return r.u8();
    case 0xcd:
      return r.u16();
    case 0xce:
      return r.u32();
    case 0xcf:
      return r.u64();
    case 0xd0:
      return r.i8();
    case 0xd1:
      return r.i16();
    case 0xd2:
      return r.i32();
    case 0xd3:
      return r.i64();
    case 0xca:
      return r.f32();
    case 0xcb:
      return r.f64();
    case 0xd9:
      return decoder.decode(r.bytes(r.u8()));
    case 0xda:
      return decoder.decode(r.bytes(r.u16()));
    default:
      return decoder.decode(r.bytes(r.u32()));
  }
}

async function decodeValue(r: ByteReader, depth: number): Promise<unknown> {
  const s = scalarSync(r);
  if (s !== NEED) return s;
  if (depth > MAX_DEPTH) throw new MsgpackStreamError(`nested deeper than ${MAX_DEPTH}`, r.offset);
  await r.fill(1);
  const b = r.peek();
  const len = scalarLength(r, b);
  if (len >= 0) {
    // A scalar that straddles chunks: buffer its header (strings: up to 5 bytes), then all of it.
    if (len === Number.POSITIVE_INFINITY) await r.fill(b === 0xd9 ? 2 : b === 0xda ? 3 : 5);
    await r.fill(scalarLength(r, b));
    return scalarSync(r);
  }
  r.pos++;
  if ((b & 0xf0) === 0x80) return decodeMap(r, b & 0x0f, depth);
  if ((b & 0xf0) === 0x90) return decodeArray(r, b & 0x0f, depth);
  switch (b) {
    case 0xc4:
    case 0xc5:
    case 0xc6: {
      const w = b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4;
      await r.fill(w);
      const n = w === 1 ? r.u8() : w === 2 ? r.u16() : r.u32();
      const out = new Uint8Array(n);
      await r.readInto(out);
      return out;
    }
    case 0xc7:
    case 0xc8:
    case 0xc9: {
      const w = b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4;
      await r.fill(w + 1);
      const n = w === 1 ? r.u8() : w === 2 ? r.u16() : r.u32();
      return decodeExt(r, r.u8(), n);
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: {
      await r.fill(1);
      return decodeExt(r, r.u8(), 2 ** (b - 0xd4));
    }
    case 0xdc:
    case 0xdd: {
      const w = b === 0xdc ? 2 : 4;
      await r.fill(w);
      return decodeArray(r, w === 2 ? r.u16() : r.u32(), depth);
    }
    case 0xde:
    case 0xdf: {
      const w = b === 0xde ? 2 : 4;
      await r.fill(w);
      return decodeMap(r, w === 2 ? r.u16() : r.u32(), depth);
    }
    default:
      throw new MsgpackStreamError(`0x${b.toString(16)} does not start a msgpack value`, r.offset - 1);
  }
}

async function decodeExt(r: ByteReader, type: number, length: number): Promise<unknown> {
  if (type !== TYPED_ARRAY_EXT || length < 1) {
    throw new MsgpackStreamError(`unsupported msgpack extension type ${type}`, r.offset);
  }
  await r.fill(1);
  const code = r.u8();
  const Ctor = TYPED_ARRAYS[code];
  if (Ctor === undefined) throw new MsgpackStreamError(`unknown typed-array code ${code}`, r.offset);
  const bytes = length - 1;
  if (bytes % Ctor.BYTES_PER_ELEMENT !== 0) {
    throw new MsgpackStreamError(
      `${Ctor.name} of ${bytes} bytes (not a multiple of ${Ctor.BYTES_PER_ELEMENT})`,
      r.offset,
    );
  }
  const out = new Ctor(bytes / Ctor.BYTES_PER_ELEMENT);
  await r.readInto(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  return out;
}

async function decodeArray(r: ByteReader, n: number, depth: number): Promise<unknown[]> {
  // Grown by push: a header's count is not trusted for an allocation.
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const s = scalarSync(r);
    out.push(s !== NEED ? s : await decodeValue(r, depth + 1));
  }
  return out;
}

async function decodeMap(r: ByteReader, n: number, depth: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = Object.create(null);
  for (let i = 0; i < n; i++) {
    const key = await decodeValue(r, depth + 1);
    if (typeof key !== 'string' && typeof key !== 'number') {
      throw new MsgpackStreamError('a map key is not a string or number', r.offset);
    }
    const k = String(key);
    if (k === '__proto__') throw new MsgpackStreamError('a map key is "__proto__"', r.offset);
    out[k] = await decodeValue(r, depth + 1);
  }
  return { ...out };
}

/**
 * Decode exactly one msgpack value from a stream of byte chunks (a fetch body, or any async
 * iterable of Uint8Array). Bytes after the value are an error.
 */
export async function decodeMsgpackStream(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): Promise<unknown> {
  const it = iteratorOf(source);
  const r = new ByteReader(it);
  try {
    const value = await decodeValue(r, 0);
    if (!(await r.atEnd())) throw new MsgpackStreamError('bytes follow the value', r.offset);
    return value;
  } finally {
    await it.return?.();
  }
}

function iteratorOf(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncIterator<Uint8Array> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel().catch(() => undefined);
      reader.releaseLock();
      return { done: true, value: undefined };
    },
  };
}
