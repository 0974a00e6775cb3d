import { randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { AuditRow } from '../csv/output/audit-writer.js';
import type { RowResult } from '../domain/row-result.js';
import { batchPaths, type BatchMeta } from './batch.js';
import { readJsonLines } from './jsonl.js';

/**
 * Every exchange a chunk sent, attempt by attempt, for the batch's audit CSV. A chunk interrupted
 * mid-way (a shutdown, a crash, a lost lock) writes no results, and is traced again from the start:
 * the exchanges of the abandoned attempt are in the central audit trail but in no results file, so
 * an audit CSV built from results alone missed them.
 *
 * Each attempt appends its rows, group by group, to a file of its own beside the results
 * (`results/NNNNN.exchanges-<random>.jsonl`: no two attempts, even of a job run twice at once,
 * share a file), durably and *before* the same group goes to the central store. So whatever the
 * central trail holds for the batch, a journal holds too (a crash between the two leaves the
 * journal one group ahead, never behind: exchanges that were sent, still listed). The files live
 * and go with the results (retention.ts); they hold no demographics, only what the audit CSV shows.
 */

const JOURNAL_NAME = /^(\d{5})\.exchanges-[0-9a-f]+\.jsonl$/;

export interface ExchangeJournal {
  /** Appends the rows' audit lines durably; `recordedAt` is the time their rejected-row events carry. */
  record(results: readonly RowResult[], recordedAt: string): Promise<void>;
  close(): Promise<void>;
}

/** What a journal keeps of a row: its outcome and exchanges, no patient data. */
function auditRowOf(result: RowResult, recordedAt: string): AuditRow {
  return { rowNumber: result.rowNumber, status: result.status, reason: result.reason, exchanges: result.exchanges, recordedAt };
}

export async function openExchangeJournal(dataDir: string, meta: BatchMeta, chunkIndex: number): Promise<ExchangeJournal> {
  const { resultsDir } = batchPaths(dataDir, meta.id);
  const file = path.join(resultsDir, `${String(chunkIndex).padStart(5, '0')}.exchanges-${randomBytes(6).toString('hex')}.jsonl`);
  // Opened at the first group: a chunk that sends nothing leaves no file.
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  return {
    async record(results, recordedAt) {
      if (results.length === 0) return;
      handle ??= await open(file, 'a', 0o600);
      await handle.write(results.map((r) => `${JSON.stringify(auditRowOf(r, recordedAt))}\n`).join(''));
      await handle.datasync();
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
}

/** Time order of an audit row: its first exchange, or when it was recorded. */
const timeOf = (row: AuditRow) => row.exchanges[0]?.startedAt ?? row.recordedAt ?? '';

/**
 * The audit rows of one chunk, every attempt's, by row and then time: the journals' rows, and
 * from the results any exchange no journal holds (a chunk traced before journals were kept, or
 * exchanges `retry` added to the results) and the rows no journal mentions. Held in memory: one
 * chunk's rows, a few times over at most.
 */
export async function chunkAuditRows(dataDir: string, meta: BatchMeta, chunkIndex: number): Promise<AuditRow[]> {
  const paths = batchPaths(dataDir, meta.id);
  const names = (await readdir(paths.resultsDir).catch(() => [] as string[])).filter((n) => Number(JOURNAL_NAME.exec(n)?.[1] ?? -1) === chunkIndex).sort();
  const rows: AuditRow[] = [];
  for (const name of names) {
    try {
      for await (const row of readJsonLines<AuditRow>(path.join(paths.resultsDir, name))) rows.push(row);
    } catch (err) {
      // A crash mid-append can tear the last line of an abandoned attempt; the lines before it stand.
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  const journaled = new Set(rows.flatMap((r) => r.exchanges.map((e) => e.messageId)));
  const journaledRows = new Set(rows.map((r) => r.rowNumber));
  for await (const result of readJsonLines<RowResult>(paths.chunkResults(chunkIndex))) {
    const missing = result.exchanges.filter((e) => !journaled.has(e.messageId));
    if (missing.length > 0 || (result.exchanges.length === 0 && !journaledRows.has(result.rowNumber))) {
      rows.push({ rowNumber: result.rowNumber, status: result.status, reason: result.reason, exchanges: missing });
    }
  }
  return rows.sort((a, b) => a.rowNumber - b.rowNumber || timeOf(a).localeCompare(timeOf(b)));
}
