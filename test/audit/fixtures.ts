import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NewAuditEvent } from '../../src/audit/event.js';

/** Synthetic NHS numbers from the never-issued 999 range, valid check digits. */
export const TEST_NHS_NUMBERS = ['9990000018', '9990000026', '9990000034'] as const;

/** The n-th synthetic event: varied users, messages and patients so each search key selects some. */
export function sampleEvent(n: number, overrides: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    time: new Date(Date.UTC(2025, 0, 1, 9, 0, n)).toISOString(),
    kind: 'smsp_exchange',
    user: n % 2 === 0 ? 'alice' : 'bob',
    role: 'tracer',
    origin: '999000000001',
    batchId: `batch-${n % 3}`,
    row: n,
    interaction: 'getNHSNumber',
    messageId: `MSG-${String(n).padStart(4, '0')}`,
    nhsNumber: TEST_NHS_NUMBERS[n % TEST_NHS_NUMBERS.length],
    outcome: 'matched',
    detail: `attempt=1 response=SMSP-0000`,
    ...overrides,
  };
}

export function sampleEvents(count: number, from = 1): NewAuditEvent[] {
  return Array.from({ length: count }, (_, i) => sampleEvent(from + i));
}

/** A fresh temporary folder and its removal. */
export async function tempFolder(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
