import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowResult, TraceExchange } from '../../src/domain/row-result.js';
import { batchPaths, type BatchMeta } from '../../src/pipeline/batch.js';
import { chunkAuditRows, openExchangeJournal } from '../../src/pipeline/exchange-journal.js';
import { writeJsonLines } from '../../src/pipeline/jsonl.js';
import { doneChunks } from '../../src/pipeline/queues.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

const exchange = (messageId: string, startedAt: string, attempt = 1): TraceExchange => ({
  interaction: 'getPatientDetailsByNHSNumber',
  messageId,
  attempt,
  startedAt,
  durationMs: 10,
  status: 'verified',
  reason: 'ok',
});
const result = (rowNumber: number, exchanges: TraceExchange[]): RowResult => ({ rowNumber, status: exchanges.length ? 'verified' : 'error', reason: exchanges.length ? 'ok' : 'aborted', exchanges });

describe('exchange journal', () => {
  let dir: string;
  let meta: BatchMeta;
  beforeEach(async () => {
    dir = await tempDir('journal');
    meta = { id: 'b20260101T000000Z-00000000-0000', createdAt: '', inputPath: '', name: 'c', inputSha256: '', options: batchOptions(dir), state: 'ingested' };
    await mkdir(batchPaths(dir, meta.id).resultsDir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every attempt\'s rows of a chunk by row and time, an interrupted attempt\'s, its torn last line aside, and retried exchanges only in the results', async () => {
    const paths = batchPaths(dir, meta.id);
    // Attempt 1, interrupted: rows 1 and 2 sent, row 3 abandoned before any request; then a crash mid-line.
    const first = await openExchangeJournal(dir, meta, 0);
    await first.record([result(1, [exchange('m1', '2026-01-01T00:00:01.000Z')]), result(2, [exchange('m2', '2026-01-01T00:00:02.000Z')])], '2026-01-01T00:00:03.000Z');
    await first.record([result(3, [])], '2026-01-01T00:00:04.000Z');
    await first.close();
    const [firstFile] = await readdir(paths.resultsDir);
    await appendFile(path.join(paths.resultsDir, firstFile!), '{"rowNumber":4,"exch');
    expect((await stat(path.join(paths.resultsDir, firstFile!))).mode & 0o777).toBe(0o600);
    // Attempt 2, complete; `retry` later added m6 to row 2 in the results only.
    const second = await openExchangeJournal(dir, meta, 0);
    const done = [result(1, [exchange('m4', '2026-01-01T00:01:01.000Z')]), result(2, [exchange('m5', '2026-01-01T00:01:02.000Z')]), result(3, [exchange('m7', '2026-01-01T00:01:03.000Z')])];
    await second.record(done, '2026-01-01T00:01:04.000Z');
    await second.close();
    await writeJsonLines(paths.chunkResults(0), [done[0], { ...done[1], exchanges: [...done[1]!.exchanges, exchange('m6', '2026-01-01T00:02:00.000Z', 2)] }, done[2]]);

    const rows = await chunkAuditRows(dir, meta, 0);
    expect(rows.map((r) => [r.rowNumber, r.exchanges.map((e) => e.messageId).join(',') || `none@${r.recordedAt}`])).toEqual([
      [1, 'm1'],
      [1, 'm4'],
      [2, 'm2'],
      [2, 'm5'],
      [2, 'm6'],
      [3, 'none@2026-01-01T00:00:04.000Z'],
      [3, 'm7'],
    ]);
    // Journals are no chunk's results: the chunk is done because of its results file alone.
    expect(await doneChunks(dir, meta)).toEqual(new Set([0]));
    expect(await chunkAuditRows(dir, meta, 1).catch((err: NodeJS.ErrnoException) => err.code)).toBe('ENOENT');
  });
});
