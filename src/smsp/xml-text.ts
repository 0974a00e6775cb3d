/**
 * Getting caller-supplied text through xmlbuilder2 unchanged.
 *
 * xmlbuilder2 4.x escapes `&` only where it does not already start something entity-like
 * (`nonEntityAmpersandRegex = /&(?![A-Za-z]+;|#\d+;)/` in lib/writers/BaseWriter.js, for text and
 * attributes alike, with no option to turn it off: oozcitak/xmlbuilder2#117, #105, #110). So a name
 * holding `&amp;` would be sent as `&`, `&#65;` as `A`, and `&copy;` as an undeclared entity, which
 * makes the document ill-formed. `wellFormed: true` checks characters, not this.
 */

import type { create } from 'xmlbuilder2';

/** xmlbuilder2 does not export its builder interface from the package root. */
export type XMLBuilder = ReturnType<typeof create>;

/**
 * `value` prepared for `.txt()` / `.att()`: every `&` becomes `&amp;`, which xmlbuilder2 then leaves
 * alone, so the serialised text decodes to exactly `value`. Every value that comes from a query or
 * an envelope context goes through this; the round-trip tests in test/smsp/build-request.test.ts
 * fail if xmlbuilder2 ever starts escaping those ampersands itself.
 */
export function literal(value: string): string {
  return value.replaceAll('&', '&amp;');
}
