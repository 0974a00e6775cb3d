import type { BatchOutputs } from './batch.js';

/**
 * What each output file is, in the words a person reads them by (README's table of outputs), in
 * the order they are listed. A Record over the kinds, so a new output cannot be listed without its
 * words.
 */
export const OUTPUT_WORDS: Readonly<Record<keyof BatchOutputs, string>> = {
  results: 'Results',
  audit: 'Audit',
  summaryJson: 'Summary (JSON)',
  summaryHtml: 'Summary (web page)',
  backOffice: 'Back-office report',
  discrepancies: 'Discrepancy report',
};

const WIDTH = Math.max(...Object.values(OUTPUT_WORDS).map((w) => w.length)) + 1;

/** One line per output file, `  Results:            <path>`, for `trace`, `resume` and `status`. */
export function outputLines(outputs: Partial<BatchOutputs>, indent = '  '): string[] {
  return (Object.keys(OUTPUT_WORDS) as Array<keyof BatchOutputs>)
    .filter((kind) => outputs[kind] !== undefined)
    .map((kind) => `${indent}${`${OUTPUT_WORDS[kind]}:`.padEnd(WIDTH + 1)} ${outputs[kind]}`);
}
