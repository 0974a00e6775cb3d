import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { expect } from 'vitest';
import { openFileAuditStore } from '../../src/audit/file-store.js';
import type { AuditStore } from '../../src/audit/store.js';
import type { BatchOptions } from '../../src/pipeline/batch.js';

export async function tempDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `pds-trace-${name}-`));
}

export function batchOptions(outDir: string, overrides: Partial<BatchOptions> = {}): BatchOptions {
  return { format: 'native', minimal: false, fallbacks: [], user: 'tester', roles: ['tracer'], outDir, bom: false, dayFirst: true, chunkSize: 100, ...overrides };
}

/** The append-only file audit store of a test's data folder. */
export function openTestAudit(dir: string): Promise<AuditStore> {
  return openFileAuditStore(path.join(dir, 'audit'));
}

export function readCsv(file: string): Array<Record<string, string>> {
  return parse(readFileSync(file, 'utf8'), { columns: true, bom: true }) as Array<Record<string, string>>;
}

/**
 * Every row of a cohort's results matches its ground truth: same order (local ids), the expected
 * status, and the expected NHS number where one is expected.
 */
export function expectResultsMatchGroundTruth(resultsFile: string, expectedFile: string): Array<Record<string, string>> {
  const results = readCsv(resultsFile);
  const expected = readCsv(expectedFile);
  expect(results).toHaveLength(expected.length);
  const mismatches: string[] = [];
  results.forEach((row, i) => {
    const want = expected[i]!;
    if (row.local_id !== want.local_id) mismatches.push(`row ${i + 1}: local id out of order`);
    if (row.trace_status !== want.expected_status) mismatches.push(`row ${i + 1}: ${row.trace_status} (${row.trace_reason}) != ${want.expected_status}`);
    if ((want.expected_nhs_number ?? '') !== '' && row.trace_nhs_number !== want.expected_nhs_number) mismatches.push(`row ${i + 1}: NHS number differs`);
  });
  expect(mismatches.slice(0, 10)).toEqual([]);
  return results;
}
