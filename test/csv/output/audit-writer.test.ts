import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_COLUMNS, createAuditCsvWriter } from '../../../src/csv/output/audit-writer.js';
import { exchange, matchedResult, NHS, readCsv, rejectedResult, tempDir, type TempDir } from './fixtures.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const context = { batchId: 'b-20250102-0001', user: 'analyst1', now: () => new Date('2025-01-02T09:00:00.000Z') };

describe('audit CSV', () => {
  it('writes one line per SMSP exchange, retries included, with attempt and duration', async () => {
    const file = tmp.file('cohort.audit.csv');
    const writer = await createAuditCsvWriter(file, context);
    const result = matchedResult(7, {
      exchanges: [
        exchange({ messageId: 'MSG-1', attempt: 1, durationMs: 30000.4, responseCode: 'HTTP-503', status: 'error', reason: 'provider_busy', startedAt: '2025-01-02T03:04:05.000Z' }),
        exchange({ messageId: 'MSG-2', attempt: 2, durationMs: 118.6, startedAt: '2025-01-02T03:04:36.000Z' }),
      ],
    });
    await writer.write(result);
    await writer.close();
    const [header, ...lines] = await readCsv(file);
    expect(header).toEqual([...AUDIT_COLUMNS]);
    expect(header).toEqual(['batch_id', 'row_number', 'user', 'timestamp', 'interaction', 'message_id', 'response_code', 'status', 'reason', 'attempt', 'duration_ms']);
    expect(lines).toEqual([
      ['b-20250102-0001', '7', 'analyst1', '2025-01-02T03:04:05.000Z', 'getPatientDetailsBySearch', 'MSG-1', 'HTTP-503', 'error', 'provider_busy', '1', '30000'],
      ['b-20250102-0001', '7', 'analyst1', '2025-01-02T03:04:36.000Z', 'getPatientDetailsBySearch', 'MSG-2', 'SMSP-0000', 'matched', 'ok', '2', '119'],
    ]);
  });

  it('writes one line for a locally rejected row: no interaction, message or response, attempt 0', async () => {
    const file = tmp.file('cohort.audit.csv');
    const writer = await createAuditCsvWriter(file, context);
    await writer.write(rejectedResult(3, 'nhs_number_check_digit', 'column NHS_NO'));
    await writer.close();
    const [, line] = await readCsv(file);
    expect(line).toEqual(['b-20250102-0001', '3', 'analyst1', '2025-01-02T09:00:00.000Z', '', '', '', 'invalid_input', 'nhs_number_check_digit', '0', '']);
  });

  it('holds no names, dates of birth, postcodes or NHS numbers', async () => {
    const file = tmp.file('cohort.audit.csv');
    const writer = await createAuditCsvWriter(file, context);
    await writer.write(matchedResult(1, { supersededNhsNumber: NHS.supplied }));
    await writer.write(rejectedResult(2, 'missing_sex'));
    await writer.close();
    const text = await readFile(file, 'utf8');
    for (const secret of ['Testpatient', 'Ada', '1980', 'LS1', 'Example Street', NHS.traced, NHS.supplied, 'Y90001']) {
      expect(text).not.toContain(secret);
    }
  });

  it('is owner-only, CRLF-delimited, and absent after abort', async () => {
    const file = tmp.file('cohort.audit.csv');
    const writer = await createAuditCsvWriter(file, context);
    await writer.write(matchedResult(1));
    await writer.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).endsWith('\r\n')).toBe(true);

    const aborted = await createAuditCsvWriter(tmp.file('other.audit.csv'), context);
    await aborted.write(matchedResult(1));
    await aborted.abort();
    expect(await tmp.list()).toEqual(['cohort.audit.csv']);
  });

  it('neutralises a formula-like user name', async () => {
    const file = tmp.file('cohort.audit.csv');
    const writer = await createAuditCsvWriter(file, { ...context, user: '=evil' });
    await writer.write(rejectedResult(1, 'missing_sex'));
    await writer.close();
    const [, line] = await readCsv(file);
    expect(line![2]).toBe("'=evil");
  });
});
