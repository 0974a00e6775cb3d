import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Utf8Tally } from '../../../src/csv/input/utf8-tally.js';

function tally(bytes: Uint8Array, cuts: number[] = []) {
  const t = new Utf8Tally();
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    t.add(bytes.subarray(from, cut));
    from = cut;
  }
  t.add(bytes.subarray(from));
  return t.end();
}

/** What a UTF-8 decoder shows: one U+FFFD per invalid sequence; every other non-ASCII code point is a valid multi-byte character. */
function decoderCounts(bytes: Uint8Array) {
  const text = new TextDecoder('utf-8').decode(bytes);
  let invalid = 0;
  let multiByte = 0;
  for (const char of text) {
    if (char === '\uFFFD') invalid++;
    else if (char.codePointAt(0)! >= 0x80) multiByte++;
  }
  return { invalid, multiByte };
}

describe('Utf8Tally', () => {
  it('counts valid multi-byte characters and invalid bytes', () => {
    expect(tally(Buffer.from('Kociński, Łukasz, Zoë 😀'))).toEqual({ multiByte: 4, invalid: 0 });
    expect(tally(Buffer.from([0x5a, 0x6f, 0xeb, 0x2c, 0x92]))).toEqual({ multiByte: 0, invalid: 2 }); // Zoë, ’ in Windows-1252
    expect(tally(Buffer.from([0xc3]))).toEqual({ multiByte: 0, invalid: 1 }); // cut off by the end
    expect(tally(Buffer.from([0xe0, 0x80, 0x80]))).toEqual({ multiByte: 0, invalid: 3 }); // overlong
    expect(tally(Buffer.from([0xed, 0xa0, 0x80]))).toEqual({ multiByte: 0, invalid: 3 }); // surrogate
  });

  // Bytes with U+FFFD's own encoding left out: a decoder shows a valid EF BF BD as U+FFFD too.
  const bytes = fc.uint8Array({ maxLength: 64 }).filter((b) => !Buffer.from(b).includes(Buffer.from([0xef, 0xbf, 0xbd])));
  test.prop([bytes, fc.array(fc.nat({ max: 64 }), { maxLength: 4 })])('agrees with the Encoding Standard decoder however the bytes are chunked', (b, cuts) => {
    expect(tally(b, cuts.map((c) => Math.min(c, b.length)))).toEqual(decoderCounts(b));
  });
});
