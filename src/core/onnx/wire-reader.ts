import type { FileHandle } from 'node:fs/promises';

/**
 * A streaming protobuf wire-format reader over positioned reads. It keeps one small window of
 * the file in memory and moves past length-delimited fields without reading them, so a 2 GiB
 * model costs the same memory as a 2 KiB one.
 */

export interface ByteSource {
  readonly size: number;
  /** Reads up to `length` bytes at file `position` into `target` at `offset`; resolves to the count read. */
  read(target: Buffer, offset: number, length: number, position: number): Promise<number>;
}

export function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    read: async (target, offset, length, position) => (await handle.read(target, offset, length, position)).bytesRead,
  };
}

export function bufferSource(buf: Uint8Array): ByteSource {
  return {
    size: buf.length,
    read: async (target, offset, length, position) => {
      const n = Math.max(0, Math.min(length, buf.length - position));
      target.set(buf.subarray(position, position + n), offset);
      return n;
    },
  };
}

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

/** `eof`: the data runs past the end of the file; `malformed`: it can't be protobuf. */
export class WireError extends Error {
  constructor(
    readonly kind: 'eof' | 'malformed',
    message: string,
    /** The field being read when it happened, if its tag was read. */
    readonly field?: { number: number; wire: number },
  ) {
    super(message);
  }
}

export interface Field {
  number: number;
  wire: number;
  /** The value of a varint field (int64 above 2^53 loses precision; negative ones come back >= 2^63). */
  value: number;
  /** Where a length-delimited field's bytes start and end (absolute file offsets). */
  start: number;
  end: number;
}

const WINDOW = 64 * 1024;

export class WireReader {
  pos = 0;
  private window = Buffer.alloc(WINDOW);
  private windowStart = 0;
  private windowEnd = 0;

  constructor(private readonly source: ByteSource) {}

  get size(): number {
    return this.source.size;
  }

  /** The fields of the message that ends at `end`. Whatever the loop body reads, the next field starts after this one. */
  async *fields(end: number): AsyncGenerator<Field> {
    while (this.pos < end) {
      const tagAt = this.pos;
      const tag = await this.varint();
      const number = Math.floor(tag / 8);
      const wire = tag % 8;
      const field = { number, wire };
      if (number === 0) throw new WireError('malformed', `field number 0 at byte ${tagAt}`, field);
      let value = 0;
      let length = 0;
      if (wire === WIRE.VARINT) value = await this.varint(field);
      else if (wire === WIRE.I64) length = 8;
      else if (wire === WIRE.I32) length = 4;
      else if (wire === WIRE.LEN) length = await this.varint(field);
      else throw new WireError('malformed', `wire type ${wire} (field ${number}) at byte ${tagAt}; ONNX uses 0, 1, 2 and 5`, field);
      const start = this.pos;
      if (start + length > end) {
        const kind = start + length > this.size ? 'eof' : 'malformed';
        throw new WireError(kind, `field ${number} at byte ${tagAt} is ${length} bytes long, past ${kind === 'eof' ? 'the end of the file' : `its message's end at byte ${end}`}`, field);
      }
      yield { number, wire, value, start, end: start + length };
      this.pos = start + length;
    }
  }

  async varint(field?: Field | { number: number; wire: number }): Promise<number> {
    await this.fill(10);
    let value = 0;
    for (let i = 0; i < 10; i++) {
      const at = this.pos + i;
      if (at >= this.size) throw new WireError('eof', `a varint at byte ${this.pos} runs past the end of the file`, field);
      const byte = this.window[at - this.windowStart];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) {
        this.pos = at + 1;
        return value;
      }
    }
    throw new WireError('malformed', `a varint at byte ${this.pos} is longer than 10 bytes`, field);
  }

  /** Copies `length` bytes from the current position. Callers cap `length`; this never skips the check. */
  async bytes(length: number): Promise<Buffer> {
    if (this.pos + length > this.size) throw new WireError('eof', `${length} bytes at byte ${this.pos} run past the end of the file`);
    let out: Buffer;
    if (length <= WINDOW) {
      await this.fill(length);
      out = Buffer.from(this.window.subarray(this.pos - this.windowStart, this.pos - this.windowStart + length));
    } else {
      out = Buffer.alloc(length);
      await this.readFully(out, 0, length, this.pos);
    }
    this.pos += length;
    return out;
  }

  /** Makes the window hold [pos, pos + n), or up to the end of the file. */
  private async fill(n: number): Promise<void> {
    const want = Math.min(this.pos + n, this.size);
    if (this.pos >= this.windowStart && want <= this.windowEnd) return;
    const length = Math.min(WINDOW, this.size - this.pos);
    await this.readFully(this.window, 0, length, this.pos);
    this.windowStart = this.pos;
    this.windowEnd = this.pos + length;
  }

  private async readFully(target: Buffer, offset: number, length: number, position: number): Promise<void> {
    for (let done = 0; done < length; ) {
      const n = await this.source.read(target, offset + done, length - done, position + done);
      if (n === 0) throw new WireError('eof', `the file ended at byte ${position + done}, earlier than its size said`);
      done += n;
    }
  }
}
