import type { RowResult, TraceExchange } from '../../domain/row-result.js';
import { openCsvSink, type CsvOptions } from './csv-sink.js';
import { guardFormula } from './formula-guard.js';

/**
 * The batch audit CSV: one line per SMSP exchange (every attempt, retries included) and one per row
 * rejected before any request, so "who traced what, when, with which message" can be answered from
 * the file alone (MSCA-AUD; peers-and-governance.md §4).
 *
 * It names rows by number, never by content: no names, dates of birth or postcodes. The NHS number
 * is left out too; it belongs in the tamper-evident audit store (ARCHITECTURE property 7), and the
 * row number joins this file to the results file, which holds it.
 */
export const AUDIT_COLUMNS = [
  'batch_id',
  'row_number',
  'user',
  'timestamp',
  'interaction',
  'message_id',
  'response_code',
  'status',
  'reason',
  'attempt',
  'duration_ms',
] as const;

export interface AuditContext {
  batchId: string;
  /** The local user accountable for the batch. */
  user: string;
  /** Clock for the lines of rejected rows (tests pass a fixed one). Default: the system clock. */
  now?: () => Date;
}

/**
 * One row's lines in the audit CSV: its outcome and the exchanges to list. A row result is one;
 * so is an interrupted attempt's record of a row (src/pipeline/exchange-journal.ts).
 */
export type AuditRow = Pick<RowResult, 'rowNumber' | 'status' | 'reason' | 'exchanges'> & {
  /** When a row with no exchange was recorded in the audit trail; default the writer's clock. */
  recordedAt?: string;
};

export interface AuditCsvWriter {
  write(row: AuditRow): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

function exchangeLine(context: AuditContext, result: AuditRow, exchange: TraceExchange): string[] {
  return [
    context.batchId,
    String(result.rowNumber),
    context.user,
    exchange.startedAt,
    exchange.interaction,
    exchange.messageId,
    exchange.responseCode ?? '',
    exchange.status,
    exchange.reason,
    String(exchange.attempt),
    String(Math.round(exchange.durationMs)),
  ];
}

/**
 * A row that never reached SMSP: no interaction, message, response or duration, attempt 0. Its
 * timestamp is when the outcome was written to the audit trail; the rejection itself happened at
 * ingest, which leaves no clock reading on the row.
 */
function rejectedLine(context: AuditContext, result: AuditRow): string[] {
  const recordedAt = result.recordedAt ?? (context.now ?? (() => new Date()))().toISOString();
  return [context.batchId, String(result.rowNumber), context.user, recordedAt, '', '', '', result.status, result.reason, '0', ''];
}

/** `options`: the batch's CSV options, the same object every CSV output of the batch is written with. */
export async function createAuditCsvWriter(path: string, context: AuditContext, options: CsvOptions = {}): Promise<AuditCsvWriter> {
  const sink = await openCsvSink(path, options);
  // The user name and provider codes are text from outside pds-trace's vocabulary: guard them too.
  const write = (line: string[]) => sink.write(line.map(guardFormula));
  try {
    await sink.write([...AUDIT_COLUMNS]);
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return {
    async write(result) {
      if (result.exchanges.length === 0) {
        await write(rejectedLine(context, result));
        return;
      }
      for (const exchange of result.exchanges) await write(exchangeLine(context, result, exchange));
    },
    close: () => sink.close(),
    abort: () => sink.abort(),
  };
}
