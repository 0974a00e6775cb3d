import { createHash } from 'node:crypto';
import type { RowDigestScheme } from './batch.js';

/**
 * A row's fingerprint, recorded at ingest with the row's chunk entry and carried into its result,
 * then recomputed by assemble from the row it is about to join the result to: a result can only
 * land on the row it was traced for, whatever happens to row numbers or files in between
 * (ARCHITECTURE property 9).
 *
 * SHA-256 over the row's cells as read (decoded, untouched), JSON-encoded so that no two lists of
 * cells encode alike (`["a,b"]` vs `["a","b"]`); 16 hex characters (64 bits) tell rows of one
 * file apart by far more than a file has rows, at a fraction of a full hash's size per row.
 */
export const ROW_DIGEST_SCHEME: RowDigestScheme = 'sha256-16';

export function rowDigest(cells: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(cells)).digest('hex').slice(0, 16);
}
