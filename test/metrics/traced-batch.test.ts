import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../support/pipeline.js';
import { traceThroughQueues, type QueuedBatch } from './queued-batch.js';

/** The value of one sample line of the metrics text, or 0 when absent. */
function sample(text: string, line: string): number {
  const escaped = line.replace(/[{}"=,]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function scrapeUntil(batch: QueuedBatch, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await batch.metrics.registry.metrics();
    if (ready(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('metrics after a batch traced through the queues', () => {
  let batch: QueuedBatch;
  let text: string;
  beforeAll(async () => {
    batch = await traceThroughQueues({ name: 'metrics-batch', rows: 60, wayIn: 'watch' });
    // The assemble worker counts the batch once its job has completed, a moment after the batch shows assembled.
    text = await scrapeUntil(batch, (t) => /^pdstrace_batch_duration_seconds_count\{way_in="watch"\} 1$/m.test(t));
  }, 180_000);
  afterAll(async () => batch?.close());

  it('counts the rows of each status under the way the file came in, as the batch summary counts them', () => {
    expect(batch.meta.state).toBe('assembled');
    const statuses = Object.entries(batch.byStatus).filter(([, n]) => n > 0);
    expect(statuses.length).toBeGreaterThan(1);
    for (const [status, rows] of statuses) expect(sample(text, `pdstrace_rows_total{status="${status}",way_in="watch"}`), status).toBe(rows);
    const counted = [...text.matchAll(/^pdstrace_rows_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBe(60);
    expect(sample(text, 'pdstrace_batch_duration_seconds_count{way_in="watch"}')).toBe(1);
  });

  it('counts an SMSP request per exchange, and none is left in flight', () => {
    const requests = [...text.matchAll(/^pdstrace_smsp_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(requests).toBeGreaterThan(0);
    expect(sample(text, 'pdstrace_smsp_requests_in_flight')).toBe(0);
    expect(sample(text, 'pdstrace_audit_append_failures_total')).toBe(0);
    expect(sample(text, 'pdstrace_queue_jobs{queue="assemble",state="completed"}')).toBe(1);
  });

  it('holds no input value (name, NHS number, date of birth, postcode, local id) nor the file name', () => {
    const rows = readCsv(batch.cohortCsv);
    const values = new Set(rows.flatMap((row) => Object.values(row)).filter((v) => v.trim().length >= 3));
    expect(values.size).toBeGreaterThan(100);
    // Whole tokens for single words and numbers (a date of birth is not "in" a byte count that
    // happens to contain its digits); anything with a space or punctuation as written.
    const tokens = new Set(text.split(/[^A-Za-z0-9]+/));
    const found = [...values].filter((v) => (/^[A-Za-z0-9]+$/.test(v) ? tokens.has(v) : text.includes(v)));
    expect(found).toEqual([]);
    expect(text).not.toContain(path.basename(batch.cohortCsv, '.csv'));
    expect(text).not.toContain('svc-ops');
  });
});
