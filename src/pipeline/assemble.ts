import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { RowResult } from '../domain/row-result.js';
import { openInput } from '../csv/read-input.js';
import { createAuditCsvWriter } from '../csv/output/audit-writer.js';
import { createResultsWriter } from '../csv/output/results-writer.js';
import { SummaryBuilder, writeSummaryHtml, writeSummaryJson, type BatchSummary } from '../csv/output/summary.js';
import { batchPaths, saveBatch, type BatchMeta } from './batch.js';
import { inputOptionsFor } from './ingest.js';
import { readJsonLines } from './jsonl.js';

/** An input row with no result, or a result for no row: assembling would lose or invent a row. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

/** Results of every row in row order: the rejected rows and the chunk results merged. */
async function* resultsInRowOrder(dataDir: string, meta: BatchMeta): AsyncGenerator<RowResult> {
  const paths = batchPaths(dataDir, meta.id);
  async function* chunkResults() {
    for (const chunk of meta.chunks ?? []) yield* readJsonLines<RowResult>(paths.chunkResults(chunk.index));
  }
  const rejected = readJsonLines<RowResult>(paths.rejected);
  const traced = chunkResults();
  let r = await rejected.next();
  let t = await traced.next();
  while (!r.done || !t.done) {
    if (t.done || (!r.done && r.value.rowNumber < t.value.rowNumber)) {
      yield r.value as RowResult;
      r = await rejected.next();
    } else {
      yield t.value;
      t = await traced.next();
    }
  }
}

export interface AssembleOptions {
  startedAt: Date;
  now?: () => Date;
}

/**
 * Writes the batch's outputs: every input row once, in input order, with its result; the audit
 * CSV; the summary as JSON and HTML. Each file appears complete or not at all.
 */
export async function assembleBatch(dataDir: string, meta: BatchMeta, options: AssembleOptions): Promise<{ meta: BatchMeta; summary: BatchSummary }> {
  const now = options.now ?? (() => new Date());
  const outDir = meta.options.outDir;
  await mkdir(outDir, { recursive: true });
  const outputs = {
    results: path.join(outDir, `${meta.name}.results.csv`),
    audit: path.join(outDir, `${meta.name}.audit.csv`),
    summaryJson: path.join(outDir, `${meta.name}.summary.json`),
    summaryHtml: path.join(outDir, `${meta.name}.summary.html`),
  };
  const input = await openInput(meta.inputPath, inputOptionsFor(meta));
  const results = await createResultsWriter(outputs.results, {
    inputHeaders: input.layout.headers,
    format: meta.options.format,
    bom: meta.options.bom,
  });
  const audit = await createAuditCsvWriter(outputs.audit, { batchId: meta.id, user: meta.options.user });
  const summary = new SummaryBuilder({ batchId: meta.id, inputFile: path.basename(meta.inputPath), user: meta.options.user, startedAt: options.startedAt });

  try {
    const ordered = resultsInRowOrder(dataDir, meta);
    for await (const row of input.rows) {
      const next = await ordered.next();
      if (next.done || next.value.rowNumber !== row.rowNumber) {
        throw new AssemblyError(`batch ${meta.id}: no result for row ${row.rowNumber} (found ${next.done ? 'none' : `row ${next.value.rowNumber}`})`);
      }
      await results.write({ cells: row.cells, query: row.query, result: next.value });
      await audit.write(next.value);
      summary.add(next.value);
    }
    const extra = await ordered.next();
    if (!extra.done) throw new AssemblyError(`batch ${meta.id}: a result for row ${extra.value.rowNumber} has no input row`);
    await results.close();
    await audit.close();
  } catch (err) {
    await results.abort();
    await audit.abort();
    throw err;
  }

  const finishedAt = now();
  const built = summary.finish({ finishedAt });
  await writeSummaryJson(outputs.summaryJson, built);
  await writeSummaryHtml(outputs.summaryHtml, built);
  const assembled: BatchMeta = { ...meta, state: 'assembled', outputs, finishedAt: finishedAt.toISOString() };
  await saveBatch(batchPaths(dataDir, meta.id), assembled);
  return { meta: assembled, summary: built };
}
