/**
 * Synthetic results for the output tests. NHS numbers are from the never-issued test range
 * 999 000 0000–999 999 9999 with valid check digits; people and places are invented.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { PdsPatient } from '../../../src/domain/demographics.js';
import type { RowResult, TraceExchange } from '../../../src/domain/row-result.js';

export const NHS = {
  supplied: '9990000018',
  traced: '9990000026',
  replacement: '9990000034',
  other: '9990000042',
} as const;

export const MESSAGE_ID = '6D7B2F4C-1E3A-4B5C-9D8E-0F1A2B3C4D5E';

export function patient(overrides: Partial<PdsPatient> = {}): PdsPatient {
  return {
    nhsNumber: NHS.traced,
    givenNames: ['Ada', 'Mary'],
    familyName: 'Testpatient',
    sex: '2',
    dateOfBirth: '19800704',
    addresses: [
      { use: 'TMP', lines: ['1 Temporary Road', '', '', 'Elsewhere', ''], postcode: 'ZZ9 9ZZ' },
      { use: 'H', lines: ['12 Example Street', '', 'Sampletown', 'Leeds', ''], postcode: 'LS1 6AE' },
    ],
    telecoms: [
      { use: 'H', value: 'tel:01632960000' },
      { use: 'MC', value: 'tel:07700900123' },
      { use: 'HP', value: 'mailto:ada@example.org' },
    ],
    gpPractice: { odsCode: 'Y90001' },
    sensitive: false,
    ...overrides,
  };
}

export function exchange(overrides: Partial<TraceExchange> = {}): TraceExchange {
  return {
    interaction: 'getPatientDetailsBySearch',
    messageId: MESSAGE_ID,
    attempt: 1,
    startedAt: '2025-01-02T03:04:05.000Z',
    durationMs: 120,
    responseCode: 'SMSP-0000',
    status: 'matched',
    reason: 'ok',
    ...overrides,
  };
}

export function matchedResult(rowNumber: number, overrides: Partial<RowResult> = {}): RowResult {
  return {
    rowNumber,
    status: 'matched',
    reason: 'ok',
    interaction: 'getPatientDetailsBySearch',
    responseCode: 'SMSP-0000',
    messageId: MESSAGE_ID,
    nhsNumber: NHS.traced,
    patient: patient(),
    exchanges: [exchange()],
    ...overrides,
  };
}

export function rejectedResult(rowNumber: number, reason: string, detail?: string): RowResult {
  return { rowNumber, status: 'invalid_input', reason, detail, exchanges: [] };
}

export interface TempDir {
  dir: string;
  file(name: string): string;
  list(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pds-trace-output-'));
  return {
    dir,
    file: (name) => path.join(dir, name),
    list: async () => (await readdir(dir)).sort(),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A written CSV read back as pds-trace's consumers would: BOM stripped, every cell a string. */
export async function readCsv(file: string): Promise<string[][]> {
  return parse(await readFile(file), { bom: true, relax_column_count: true }) as string[][];
}
