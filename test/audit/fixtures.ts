import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NewAuditEvent } from '../../src/audit/event.js';
import { supersededDetail } from '../../src/audit/superseded-numbers.js';

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

/** Synthetic numbers from the never-issued 999 range: X superseded by Y, Y later by W; Z unrelated. */
export const SUPERSEDED_NUMBERS = { X: '9990000042', Y: '9990000050', W: '9990000069', Z: '9990000077' } as const;
const { X, Y, W, Z } = SUPERSEDED_NUMBERS;

function exchange(n: number, nhsNumber: string, outcome: string, extra = ''): NewAuditEvent {
  return sampleEvent(n, { nhsNumber, outcome, detail: `attempt=1 response=SMSP-0000 reason=ok duration_ms=12${extra}` });
}

/** A trail (seq 1 … 8 in a new store) where X was superseded by Y (seq 2) and Y by W (seq 8). */
export const SUPERSEDED_TRAIL: readonly NewAuditEvent[] = [
  exchange(1, X, 'verified'),
  exchange(2, Y, 'superseded', ` ${supersededDetail(X)}`),
  exchange(3, Y, 'matched'),
  exchange(4, Z, 'matched'),
  // Not links: a different outcome, a number "superseded by itself", another kind of event.
  exchange(5, Z, 'matched', ` ${supersededDetail(X)}`),
  exchange(6, Z, 'superseded', ` ${supersededDetail(Z)}`),
  sampleEvent(7, { kind: 'audit_searched', nhsNumber: Z, outcome: 'superseded', detail: supersededDetail(X) }),
  exchange(8, W, 'superseded', ` ${supersededDetail(Y)}`),
];
