/**
 * The UTF-8 bytes read but not yet accounted for by a complete record, with their absolute offsets.
 * It lets the record reader number physical lines itself and, after a malformed record, replay
 * what follows into a fresh parser. It holds at most one record plus the chunks read ahead of it.
 */
import { isUtf8 } from 'node:buffer';

const LF = 0x0a;
const CR = 0x0d;

export class ByteWindow {
  private chunks: Buffer[] = [];
  /** Absolute offset of the first byte held. */
  private startOffset = 0;
  private heldBytes = 0;
  /** Physical line breaks before `start`; CR, LF and CRLF each count once. */
  private breaks = 0;
  private lastWasCr = false;

  get start(): number {
    return this.startOffset;
  }

  get end(): number {
    return this.startOffset + this.heldBytes;
  }

  /** Line breaks consumed so far, i.e. the number of the line `start` is on, minus one. */
  get linesBefore(): number {
    return this.breaks;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.heldBytes += chunk.length;
  }

  /** All bytes held, as one buffer (used to replay them into a new parser). */
  held(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  /**
   * Drops the bytes before absolute offset `upTo`, counting their line breaks. Returns how many of
   * those breaks came before the first non-break byte (the blank lines csv-parse skipped).
   */
  consume(upTo: number): { leadingBreaks: number } {
    let leadingBreaks = 0;
    let leading = true;
    let remaining = Math.min(upTo, this.end) - this.startOffset;
    while (remaining > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(remaining, chunk.length);
      for (let i = 0; i < take; i++) {
        const byte = chunk[i]!;
        const isBreak = byte === CR || (byte === LF && !this.lastWasCr);
        if (isBreak) {
          this.breaks++;
          if (leading) leadingBreaks++;
        } else if (byte !== LF) {
          leading = false;
        }
        this.lastWasCr = byte === CR;
      }
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
      this.startOffset += take;
      this.heldBytes -= take;
      remaining -= take;
    }
    return { leadingBreaks };
  }

  /**
   * Offset just past the first line break at or after `from`; -1 when none is held yet, unless
   * `final` (no more input), when the end of the held bytes ends the line.
   */
  endOfLine(from: number, final: boolean): number {
    let offset = this.startOffset;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      for (let i = 0; i < chunk.length; i++, offset++) {
        if (offset < from) continue;
        const byte = chunk[i]!;
        if (byte === LF) return offset + 1;
        if (byte === CR) {
          const next = i + 1 < chunk.length ? chunk[i + 1] : this.chunks[c + 1]?.[0];
          if (next === undefined) return final ? offset + 1 : -1; // CR or CRLF: wait for the next byte
          return next === LF ? offset + 2 : offset + 1;
        }
      }
    }
    return final ? this.end : -1;
  }

  /** Offset of the first byte at or after `start` that is not a line break (skips blank lines). */
  firstContent(): number {
    let offset = this.startOffset;
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.length; i++, offset++) {
        if (chunk[i] !== LF && chunk[i] !== CR) return offset;
      }
    }
    return offset;
  }

  /**
   * `offset`, moved back past UTF-8 continuation bytes so that text cut there does not end in half
   * a character (which would read as U+FFFD). At most three steps: a character is four bytes at most.
   */
  characterBoundary(offset: number): number {
    const bytes = this.held();
    let i = offset - this.startOffset;
    for (let steps = 0; steps < 3 && i > 0 && i < bytes.length && (bytes[i]! & 0xc0) === 0x80; steps++) i--;
    return i + this.startOffset;
  }

  /** Whether the held bytes between two absolute offsets are valid UTF-8. */
  isUtf8(from: number, to: number): boolean {
    return isUtf8(this.held().subarray(from - this.startOffset, to - this.startOffset));
  }

  /** The held bytes between two absolute offsets, as text. */
  text(from: number, to: number): string {
    return this.held().subarray(from - this.startOffset, to - this.startOffset).toString('utf8');
  }
}
