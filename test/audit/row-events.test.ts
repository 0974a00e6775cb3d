import { describe, expect, it } from 'vitest';
import { normaliseNewEvent } from '../../src/audit/event.js';
import { rowAuditEvents, type RowAuditContext } from '../../src/audit/row-events.js';
import type { RowResult, TraceExchange } from '../../src/domain/row-result.js';

const context: RowAuditContext = { batchId: 'b-1', user: 'alice', role: 'tracer', origin: '999000000001', inputNhsNumber: '9990000018', now: () => new Date('2025-02-01T12:00:00Z') };

function exchange(n: number, overrides: Partial<TraceExchange> = {}): TraceExchange {
  return {
    interaction: 'verifyNHSNumber',
    messageId: `MSG-${n}`,
    attempt: n,
    startedAt: `2025-02-01T11:00:0${n}.000Z`,
    durationMs: 123.4,
    responseCode: 'SMSP-0000',
    status: 'verified',
    reason: 'ok',
    ...overrides,
  };
}

describe('rowAuditEvents', () => {
  it('gives one smsp_exchange per attempt, with the accountable user, time, message and outcome', () => {
    const result: RowResult = {
      rowNumber: 7,
      status: 'verified',
      reason: 'ok',
      interaction: 'verifyNHSNumber',
      messageId: 'MSG-2',
      nhsNumber: '9990000018',
      exchanges: [exchange(1, { responseCode: undefined, status: 'error', reason: 'timeout' }), exchange(2)],
    };
    const events = rowAuditEvents(result, context);
    expect(events).toEqual([
      {
        kind: 'smsp_exchange', time: '2025-02-01T11:00:01.000Z', user: 'alice', role: 'tracer', origin: '999000000001', batchId: 'b-1', row: 7,
        interaction: 'verifyNHSNumber', messageId: 'MSG-1', nhsNumber: '9990000018', outcome: 'error', detail: 'attempt=1 response=none reason=timeout duration_ms=123',
      },
      {
        kind: 'smsp_exchange', time: '2025-02-01T11:00:02.000Z', user: 'alice', role: 'tracer', origin: '999000000001', batchId: 'b-1', row: 7,
        interaction: 'verifyNHSNumber', messageId: 'MSG-2', nhsNumber: '9990000018', outcome: 'verified', detail: 'attempt=2 response=SMSP-0000 reason=ok duration_ms=123',
      },
    ]);
    for (const event of events) expect(() => normaliseNewEvent(event)).not.toThrow();
  });

  it('records the number PDS returned on the deciding exchange of a search', () => {
    const result: RowResult = {
      rowNumber: 3, status: 'matched', reason: 'ok', messageId: 'MSG-1', nhsNumber: '9990000026',
      exchanges: [exchange(1, { interaction: 'getNHSNumber', status: 'matched' })],
    };
    const [event] = rowAuditEvents(result, { ...context, inputNhsNumber: undefined });
    expect(event).toMatchObject({ messageId: 'MSG-1', nhsNumber: '9990000026', outcome: 'matched' });
  });

  it('records a superseded number on the exchange that returned its replacement, and only there', () => {
    const result: RowResult = {
      rowNumber: 5, status: 'superseded', reason: 'superseded', responseCode: 'DEMOG-0017', messageId: 'MSG-2', nhsNumber: '9990000026', supersededNhsNumber: '9990000018',
      exchanges: [
        exchange(1, { responseCode: undefined, status: 'error', reason: 'timeout' }),
        exchange(2, { responseCode: 'DEMOG-0017', status: 'superseded', reason: 'superseded' }),
      ],
    };
    const [retry, deciding] = rowAuditEvents(result, context);
    expect(retry).toMatchObject({ nhsNumber: '9990000018', detail: 'attempt=1 response=none reason=timeout duration_ms=123' });
    expect(deciding).toMatchObject({ nhsNumber: '9990000026', outcome: 'superseded', detail: 'attempt=2 response=DEMOG-0017 reason=superseded duration_ms=123 superseded_nhs_number=9990000018' });
    // PDS may answer DEMOG-0017 without the replacement: nothing to link, the supplied number stays.
    const [alone] = rowAuditEvents({ ...result, nhsNumber: undefined, exchanges: [result.exchanges[1]!] }, context);
    expect(alone).toMatchObject({ nhsNumber: '9990000018', detail: 'attempt=2 response=DEMOG-0017 reason=superseded duration_ms=123' });
  });

  it('records the answer\'s message id and RelatesTo beside the request\'s, so a refused answer can be traced', () => {
    const responseMessageId = '0D355CFC-53FB-11E6-9B40-6C3BE5A63FA4';
    const relatesTo = 'uuid:1E21265D-10C8-11E4-8DA7-222222222222';
    const result: RowResult = {
      rowNumber: 4, status: 'error', reason: 'response_mismatch', messageId: 'MSG-1',
      exchanges: [exchange(1, { status: 'error', reason: 'response_mismatch', responseMessageId, relatesTo })],
    };
    const [event] = rowAuditEvents(result, context);
    expect(event).toMatchObject({ messageId: 'MSG-1', nhsNumber: '9990000018', outcome: 'error' });
    expect(event?.detail).toBe(`attempt=1 response=SMSP-0000 reason=response_mismatch duration_ms=123 response_message_id=${responseMessageId} relates_to=${relatesTo}`);
    expect(() => normaliseNewEvent(event!)).not.toThrow();
  });

  it('keeps provider ids that are not UUIDs out of the detail: they are provider text, possibly patient data', () => {
    const result: RowResult = {
      rowNumber: 5, status: 'error', reason: 'response_mismatch', messageId: 'MSG-1',
      exchanges: [exchange(1, { status: 'error', reason: 'response_mismatch', responseMessageId: 'JOHN SMITH 19700101', relatesTo: 'JANE-DOE' })],
    };
    const [event] = rowAuditEvents(result, context);
    expect(event?.detail).toContain('response_message_id=not-a-uuid,not-a-uuid,not-a-uuid relates_to=not-a-uuid');
    expect(event?.detail).not.toMatch(/SMITH|JANE|1970/);
  });

  it('gives one row_rejected for a row refused before any request, without a malformed input number', () => {
    const result: RowResult = { rowNumber: 9, status: 'invalid_input', reason: 'nhs_number_format', detail: 'nhs_number', exchanges: [] };
    const events = rowAuditEvents(result, { ...context, inputNhsNumber: '12345' });
    expect(events).toEqual([
      { kind: 'row_rejected', time: '2025-02-01T12:00:00.000Z', user: 'alice', role: 'tracer', origin: '999000000001', batchId: 'b-1', row: 9, nhsNumber: undefined, outcome: 'invalid_input', detail: 'reason=nhs_number_format detail=nhs_number' },
    ]);
    expect(() => normaliseNewEvent(events[0]!)).not.toThrow();
  });
});
