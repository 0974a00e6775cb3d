import type { RowResult, TraceExchange } from '../domain/row-result.js';
import type { NewAuditEvent } from './event.js';
import { supersededDetail } from './superseded-numbers.js';

/**
 * The audit events one traced row produces (ARCHITECTURE property 7; MSCA-AUD "all Spine message
 * exchanges"): one `smsp_exchange` per request sent, retries included, or one `row_rejected` for a
 * row refused before any request. The pipeline appends them, and waits for the append, before the
 * row's result counts as done.
 */

export interface RowAuditContext {
  batchId: string;
  /** The accountable user: who submitted the batch, not the worker that ran it. */
  user: string;
  /** That user's roles, as `roleField` writes them. */
  role: string;
  /** The ASID / ODS audit identity sent to SMSP. */
  origin?: string;
  /** The NHS number the row supplied, when it had a well-formed one. */
  inputNhsNumber?: string;
  /** Clock for rejected rows, which carry no time of their own. Default: the system clock. */
  now?: () => Date;
}

const TEN_DIGITS = /^\d{10}$/;
/** Provider fault texts can be long; the event's detail field is capped (event.ts). */
const MAX_DETAIL = 512;

function wellFormed(nhsNumber: string | undefined): string | undefined {
  return nhsNumber !== undefined && TEN_DIGITS.test(nhsNumber) ? nhsNumber : undefined;
}

/** A UUID, bare or with a WS-Addressing / ITK prefix: the only id form SMSP uses (SPEC §2.1, §2.3). */
const UUID_ID = /^(urn:uuid:|uuid:|uuid_)?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * The provider's ids as they came, when they are UUIDs; anything else is provider-controlled text
 * that could hold patient data (property 6), so only its being there is recorded.
 */
function providerIds(value: string): string {
  return value.split(' ').map((id) => (UUID_ID.test(id) ? id : 'not-a-uuid')).join(',');
}

function exchangeDetail(exchange: TraceExchange): string {
  const fields = [
    `attempt=${exchange.attempt}`,
    `response=${exchange.responseCode ?? 'none'}`,
    `reason=${exchange.reason}`,
    `duration_ms=${Math.round(exchange.durationMs)}`,
  ];
  // The answer's own ids beside the request's messageId (ARCHITECTURE property 8): a refused
  // answer can then be looked up at the provider.
  if (exchange.responseMessageId !== undefined) fields.push(`response_message_id=${providerIds(exchange.responseMessageId)}`);
  if (exchange.relatesTo !== undefined) fields.push(`relates_to=${providerIds(exchange.relatesTo)}`);
  return fields.join(' ');
}

export function rowAuditEvents(result: RowResult, context: RowAuditContext): NewAuditEvent[] {
  const common = { user: context.user, role: context.role, origin: context.origin, batchId: context.batchId, row: result.rowNumber };
  const input = wellFormed(context.inputNhsNumber);
  if (result.exchanges.length === 0) {
    return [
      {
        ...common,
        kind: 'row_rejected',
        time: (context.now ?? (() => new Date()))().toISOString(),
        nhsNumber: input,
        outcome: result.status,
        detail: result.detail === undefined ? `reason=${result.reason}` : `reason=${result.reason} detail=${result.detail.slice(0, MAX_DETAIL)}`,
      },
    ];
  }
  return result.exchanges.map((exchange) => {
    const deciding = exchange.messageId === result.messageId;
    // The exchange that decided the row involved the number PDS returned; the others, the one supplied.
    const nhsNumber = deciding ? (wellFormed(result.nhsNumber) ?? input) : input;
    // A superseded number's replacement is the event's number; the number it replaced goes in the
    // detail, so a search for either finds the other (superseded-numbers.ts).
    const superseded = deciding && result.status === 'superseded' ? wellFormed(result.supersededNhsNumber) : undefined;
    const link = superseded !== undefined && superseded !== nhsNumber ? ` ${supersededDetail(superseded)}` : '';
    return {
      ...common,
      kind: 'smsp_exchange',
      time: exchange.startedAt,
      interaction: exchange.interaction,
      messageId: exchange.messageId,
      nhsNumber,
      outcome: exchange.status,
      detail: `${exchangeDetail(exchange)}${link}`,
    };
  });
}
