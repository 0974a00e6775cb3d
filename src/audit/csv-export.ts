import type { Writable } from 'node:stream';
import { csvRecordWriter, openCsvSink } from '../csv/output/csv-sink.js';
import { guardFormula } from '../csv/output/formula-guard.js';
import type { AuditEvent } from './event.js';

/**
 * The audit trail as CSV, for auditors and for evidence: one line per event with every field,
 * hashes included, so the export itself can be re-verified. The file is owner-only and appears
 * complete or not at all (it holds NHS numbers). User ids, details and provider outcomes are text
 * from outside pds-trace's vocabulary: formula-guarded like every other CSV pds-trace writes.
 */
export const AUDIT_CSV_COLUMNS = [
  'seq', 'time', 'kind', 'user', 'role', 'origin', 'batch_id', 'row', 'interaction', 'message_id', 'nhs_number', 'outcome', 'detail', 'prev_hash', 'hash',
] as const;

export function auditCsvRecord(event: AuditEvent): string[] {
  const cells = [
    event.seq, event.time, event.kind, event.user, event.role, event.origin, event.batchId, event.row, event.interaction,
    event.messageId, event.nhsNumber, event.outcome, event.detail, event.prevHash, event.hash,
  ];
  return cells.map((cell) => guardFormula(cell === undefined ? '' : String(cell)));
}

/** A column added after the event's own, e.g. which of a person's numbers a search matched under. */
export interface AuditCsvExtraColumn {
  name: string;
  value: (event: AuditEvent) => string;
}

/** Writes the header and one record per event through `write`; returns the number of events. */
async function writeAuditRecords(write: (record: readonly string[]) => Promise<void>, events: AsyncIterable<AuditEvent>, extra?: AuditCsvExtraColumn): Promise<number> {
  let count = 0;
  await write(extra ? [...AUDIT_CSV_COLUMNS, extra.name] : [...AUDIT_CSV_COLUMNS]);
  for await (const event of events) {
    await write(extra ? [...auditCsvRecord(event), guardFormula(extra.value(event))] : auditCsvRecord(event));
    count += 1;
  }
  return count;
}

/** Streams events into `file`; returns the number written. Nothing appears under `file` on failure. */
export async function writeAuditCsv(file: string, events: AsyncIterable<AuditEvent>, extra?: AuditCsvExtraColumn): Promise<number> {
  const sink = await openCsvSink(file);
  let count: number;
  try {
    count = await writeAuditRecords((record) => sink.write(record), events, extra);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  await sink.close();
  return count;
}

/** Streams the same CSV into `target` (a download), ending it; returns the number of events. */
export async function streamAuditCsv(target: Writable, events: AsyncIterable<AuditEvent>, extra?: AuditCsvExtraColumn): Promise<number> {
  const writer = csvRecordWriter(target);
  try {
    const count = await writeAuditRecords((record) => writer.write(record), events, extra);
    await writer.end();
    return count;
  } catch (err) {
    await writer.destroy();
    throw err;
  }
}
