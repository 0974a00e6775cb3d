/**
 * Counts, over a stream of bytes, the valid multi-byte UTF-8 characters and the invalid sequences,
 * so that encoding.ts can tell "UTF-8 with a few bad bytes" from "not UTF-8 at all".
 *
 * Windows-1252 text practically never forms a valid multi-byte sequence: its letters 0xC0–0xFF are
 * lead bytes only when followed by 0x80–0xBF, which are punctuation (’ “ ” –) and rare right after
 * a letter. So one valid sequence is strong evidence of UTF-8, and each invalid one of something
 * else. Invalid sequences are counted as the Encoding Standard's decoder replaces them (one per
 * maximal subpart, https://encoding.spec.whatwg.org/#utf-8-decoder), i.e. one per U+FFFD a UTF-8
 * reading would show.
 */
export interface Utf8Counts {
  /** Complete, valid characters of two to four bytes. */
  multiByte: number;
  /** Bytes or truncated sequences that are not UTF-8, each counted once. */
  invalid: number;
}

export class Utf8Tally implements Utf8Counts {
  multiByte = 0;
  invalid = 0;
  /** Continuation bytes still needed by the sequence in progress (0: none in progress). */
  private needed = 0;
  private lower = 0x80;
  private upper = 0xbf;

  add(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (this.needed > 0) {
        if (byte >= this.lower && byte <= this.upper) {
          this.lower = 0x80;
          this.upper = 0xbf;
          if (--this.needed === 0) this.multiByte++;
          continue;
        }
        // The sequence stops short: it is one invalid subpart, and this byte starts afresh.
        this.invalid++;
        this.needed = 0;
        this.lower = 0x80;
        this.upper = 0xbf;
      }
      if (byte < 0x80) continue;
      this.start(byte);
    }
  }

  /** Call once at the end: a sequence cut off by the end of the input is invalid. */
  end(): Utf8Counts {
    if (this.needed > 0) this.invalid++;
    this.needed = 0;
    return { multiByte: this.multiByte, invalid: this.invalid };
  }

  /** Lead byte ranges and the second byte each allows (Unicode Table 3-7: no overlongs, no surrogates). */
  private start(byte: number): void {
    if (byte >= 0xc2 && byte <= 0xdf) this.needed = 1;
    else if (byte >= 0xe0 && byte <= 0xef) {
      this.needed = 2;
      if (byte === 0xe0) this.lower = 0xa0;
      if (byte === 0xed) this.upper = 0x9f;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      this.needed = 3;
      if (byte === 0xf0) this.lower = 0x90;
      if (byte === 0xf4) this.upper = 0x8f;
    } else this.invalid++;
  }
}
