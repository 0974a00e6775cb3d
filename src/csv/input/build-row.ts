/**
 * One physical record to one InputRow: unreadable and ragged records become problems, the rest
 * are validated; repeated local ids are flagged when a set of seen ids is given. Never drops a record.
 */
import { REASONS } from '../../domain/reasons.js';
import type { LayoutPlan } from './layout-plan.js';
import type { LocalIdSet } from './local-id-set.js';
import type { RawRecord } from './record-reader.js';
import type { InputRow } from './types.js';
import { localIdOf, validateRow, type RowContext } from './validate-row.js';

export function buildRow(record: RawRecord, rowNumber: number, plan: LayoutPlan, ctx: RowContext, seenLocalIds: LocalIdSet | undefined): InputRow {
  const base = { rowNumber, line: record.line, cells: record.cells };
  if (record.malformed) {
    // The cells say what was given back: the record's first line as one cell (record-reader.ts).
    const kept = record.cut ? 'the first part of its first line is given back as one cell' : 'its first line is given back as one cell';
    return { ...base, problem: { reason: record.malformed, message: `the record starting on line ${record.line} could not be read: ${REASONS[record.malformed]}; ${kept}` }, flags: [] };
  }
  if (record.invalidUtf8) {
    // Names the columns whose cells show U+FFFD, never the cells (no patient data in messages).
    const columns = record.cells.flatMap((cell, i) => (cell.includes('\uFFFD') ? [`"${plan.headers[i] ?? `column ${i + 1}`}"`] : []));
    return { ...base, problem: { reason: 'invalid_encoding', message: `the row has bytes that are not UTF-8 (column ${columns.join(', ')}): ${REASONS.invalid_encoding}` }, flags: [] };
  }
  const width = record.cells.length;
  if (width < plan.cells.min || width > plan.cells.max) {
    const expected = plan.cells.min === plan.cells.max ? `${plan.cells.max}` : `${plan.cells.min} to ${plan.cells.max}`;
    return { ...base, problem: { reason: 'ragged_row', message: `the row has ${width} cells where the header has ${expected}: ${REASONS.ragged_row}` }, flags: [] };
  }
  const verdict = validateRow(record.cells, ctx);
  const flags = [...verdict.flags];
  const localId = localIdOf(record.cells, ctx.fields);
  if (localId !== undefined && seenLocalIds?.addAndCheck(localId)) flags.push('duplicate_local_id');
  const row: InputRow = { ...base, flags };
  if (verdict.query) row.query = verdict.query;
  if (verdict.problem) row.problem = verdict.problem;
  return row;
}
