import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import pLimit from 'p-limit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { NewAuditEvent } from '../../src/audit/event.js';
import type { AuditSink } from '../../src/pipeline/audit-sink.js';
import { batchPaths, type BatchMeta } from '../../src/pipeline/batch.js';
import type { ChunkRow } from '../../src/pipeline/ingest.js';
import { readAllJsonLines } from '../../src/pipeline/jsonl.js';
import type { SmspCaller } from '../../src/pipeline/strategy.js';
import { traceChunk } from '../../src/pipeline/trace-chunk.js';
import type { RowResult } from '../../src/domain/row-result.js';
import { batchOptions, tempDir } from '../support/pipeline.js';

const ROWS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Answers every query as `no_match` after `delayMs`, with one exchange, as the SMSP client would,
 * at most `inFlight` at a time in the order asked (as the client's limiter does).
 */
function fakeCaller(delayMs: number, onCall?: (query: PatientQuery) => void, inFlight = 16): SmspCaller {
  let n = 0;
  const limit = pLimit(inFlight);
  return {
    call: (interaction, query, options) => limit(async () => {
      onCall?.(query);
      await sleep(delayMs);
      const messageId = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
      const status = options?.signal?.aborted ? 'error' : 'no_match';
      const reason = status === 'error' ? 'aborted' : 'no_match';
      return {
        interaction,
        status,
        reason,
        retryable: false,
        messageId,
        exchanges: [{ interaction, messageId, attempt: 1, startedAt: new Date().toISOString(), durationMs: delayMs, status, reason }],
        durationMs: delayMs,
      };
    }),
  };
}

/** Records each append: its events, and whether the chunk's results had been written by then. */
function recordingSink(resultsFile: () => string, fail?: (call: number) => boolean): AuditSink & { appends: Array<{ events: readonly NewAuditEvent[]; resultsWritten: boolean }> } {
  const appends: Array<{ events: readonly NewAuditEvent[]; resultsWritten: boolean }> = [];
  return {
    appends,
    async append(events) {
      await sleep(2); // an fsync's worth: rows finish meanwhile
      if (fail?.(appends.length + 1)) throw new Error('audit store unavailable');
      appends.push({ events, resultsWritten: existsSync(resultsFile()) });
    },
  };
}

describe('traceChunk', () => {
  let dir: string;
  let meta: BatchMeta;

  beforeEach(async () => {
    dir = await tempDir('trace-chunk');
    meta = { id: 'b-test', createdAt: new Date().toISOString(), inputPath: '/dev/null', name: 'test', inputSha256: '0', options: batchOptions(dir), state: 'ingested' };
    const paths = batchPaths(dir, meta.id);
    await mkdir(paths.chunksDir, { recursive: true });
    await mkdir(paths.resultsDir, { recursive: true });
    for (const chunk of [0, 1]) {
      const rows: ChunkRow[] = Array.from({ length: ROWS }, (_, i) => ({
        rowNumber: chunk * ROWS + i + 1,
        // The local id says which row asked (the fake caller sees queries only).
        query: { familyName: 'TESTER', givenName: 'ALEX', dateOfBirth: '19800101', sex: '1', postcode: 'LS1 4AP', localId: String(chunk * ROWS + i + 1) },
      }));
      await writeFile(paths.chunk(chunk), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    }
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const resultsFile = () => batchPaths(dir, meta.id).chunkResults(0);

  it('audits every exchange in groups while the rows are traced, all before the results are written', async () => {
    const sink = recordingSink(resultsFile);
    expect(await traceChunk(dir, meta, 0, fakeCaller(3), { audit: sink, auditGroupRows: 20 })).toBe('traced');

    const events = sink.appends.flatMap((a) => a.events);
    expect(events).toHaveLength(ROWS);
    expect(new Set(events.map((e) => e.row))).toEqual(new Set(Array.from({ length: ROWS }, (_, i) => i + 1)));
    // The first group goes as its 20th row finishes, while the others are traced; rows finishing
    // during an append join the next group, so how many groups follow depends on the machine's pace.
    expect(sink.appends[0]!.events).toHaveLength(20);
    expect(sink.appends.length).toBeGreaterThanOrEqual(2);
    expect(sink.appends.every((a) => !a.resultsWritten)).toBe(true);
    // Each group in row order.
    for (const { events: group } of sink.appends) {
      const rows = group.map((e) => e.row!);
      expect(rows).toEqual([...rows].sort((a, b) => a - b));
    }
    const results = await readAllJsonLines<RowResult>(resultsFile());
    expect(results.map((r) => r.rowNumber)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  });

  it('queues its rows on the caller\'s limit in order, so two chunks open at once run one after the other', async () => {
    const asked: number[] = [];
    const caller = fakeCaller(2, (query) => asked.push(Number(query.localId)), 8);
    const sink = recordingSink(resultsFile);
    const first = traceChunk(dir, meta, 0, caller, { audit: sink });
    while (asked.length === 0) await sleep(1); // the second opens while the first is under way
    await Promise.all([first, traceChunk(dir, meta, 1, caller, { audit: sink })]);
    // Every row of the first chunk was sent before any of the second: its tail is the other's bulk,
    // not both tails at once with the limit idle between them.
    expect(asked).toEqual(Array.from({ length: 2 * ROWS }, (_, i) => i + 1));
  });

  it('writes no results when an audit append fails, so the chunk is traced again', async () => {
    const sink = recordingSink(resultsFile, (call) => call === 2);
    await expect(traceChunk(dir, meta, 0, fakeCaller(1), { audit: sink, auditGroupRows: 20 })).rejects.toThrow('audit store unavailable');
    expect(existsSync(resultsFile())).toBe(false);
  });

  it('audits the exchanges that happened when the chunk is abandoned, and writes no results', async () => {
    const controller = new AbortController();
    let calls = 0;
    const caller = fakeCaller(2, () => {
      if (++calls === 40) controller.abort(new Error('shutting down'));
    });
    const sink = recordingSink(resultsFile);
    await expect(traceChunk(dir, meta, 0, caller, { audit: sink, auditGroupRows: 20, signal: controller.signal })).rejects.toThrow('shutting down');
    expect(existsSync(resultsFile())).toBe(false);
    expect(sink.appends.flatMap((a) => a.events)).toHaveLength(ROWS);
  });

  it('does nothing for a chunk whose results exist', async () => {
    await writeFile(resultsFile(), '');
    const sink = recordingSink(resultsFile);
    expect(await traceChunk(dir, meta, 0, fakeCaller(1), { audit: sink })).toBe('already_done');
    expect(sink.appends).toHaveLength(0);
  });
});
