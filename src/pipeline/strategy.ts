import type { PatientQuery } from '../domain/demographics.js';
import type { Interaction } from '../domain/interaction.js';
import type { RowResult, TraceExchange } from '../domain/row-result.js';
import type { SmspOutcome } from '../smsp/types.js';
import { PriorityLine, requestPriority, withRequestPriority } from './priority.js';

/**
 * How one row is traced. The default is the safest reading of the row: a supplied NHS number is
 * verified (and its details fetched), never replaced by a search; a row without one is searched by
 * demographics. Every relaxation raises the risk of a wrong match, so each is a named, opt-in step.
 */

/** What the strategy needs of the SMSP client (so tests and runners can pass anything that calls SMSP). */
export interface SmspCaller {
  call(interaction: Interaction, query: PatientQuery, options?: SmspCallOptions): Promise<SmspOutcome>;
}

export interface SmspCallOptions {
  username?: string;
  /** Aborts the call, even one already sent (a shutdown): it ends as `error`/`aborted`. */
  signal?: AbortSignal;
  /** Once fired, a call still waiting for its turn is not made (RowNotStartedError); one under way goes on. */
  stop?: AbortSignal;
}

/** A row's first call was not made: `stop` fired while it waited its turn. Nothing was sent. */
export class RowNotStartedError extends Error {
  override readonly name = 'RowNotStartedError';
  constructor() {
    super('row not started: its batch stopped first');
  }
}

/**
 * `caller` with at most twice `maxInFlight` (SMSP_MAX_IN_FLIGHT) calls in progress; the rest wait,
 * in order, interactive batches' rows first (priority.ts). Twice, so a slot the limiter gives back
 * always finds a row already waiting for it: with one row per slot, each freed slot sat idle until
 * its own row's answer had been parsed and recorded and the next row had asked. No more, so
 * waiting rows do not pile up in memory.
 */
export function withRowLimit(caller: SmspCaller, maxInFlight: number): SmspCaller {
  const limit = 2 * maxInFlight;
  const waiting = new PriorityLine<() => void>();
  let running = 0;
  const startNext = () => {
    while (running < limit) {
      const start = waiting.shift();
      if (!start) return;
      running++;
      start();
    }
  };
  return {
    call: (interaction, query, options) => {
      // Read as the row asks: the call itself starts later, from whichever row's end let it in.
      const priority = requestPriority();
      return new Promise((resolve, reject) => {
        waiting.push(() => {
          const call = async () => {
            if (options?.stop?.aborted) throw new RowNotStartedError();
            return withRequestPriority(priority, () => caller.call(interaction, query, options));
          };
          call()
            .then(resolve, reject)
            .finally(() => {
              running--;
              startNext();
            });
        }, priority);
        startNext();
      });
    },
  };
}

export const FALLBACKS = {
  /** When PDS does not verify the NHS number supplied (DEMOG-0040), search by demographics instead. */
  search_when_not_verified: 'search by demographics when the NHS number is not verified',
  /** When a search finds nobody, search again without the postcode (people move). */
  search_without_postcode: 'repeat a search that found nobody without the postcode',
} as const;

export type Fallback = keyof typeof FALLBACKS;

export interface StrategyOptions {
  /** Use verifyNHSNumber / getNHSNumber (number only) instead of the details interactions. */
  minimal: boolean;
  fallbacks: readonly Fallback[];
  username?: string;
  signal?: AbortSignal;
  /**
   * Stops the row at its boundary: a row whose first call has not been made by then is not traced
   * (RowNotStartedError), and a row under way finishes every step, so no exchange goes unrecorded.
   */
  stop?: AbortSignal;
}

function primaryInteraction(query: PatientQuery, minimal: boolean): Interaction {
  if (query.nhsNumber) return minimal ? 'verifyNHSNumber' : 'getPatientDetailsByNHSNumber';
  return searchInteraction(minimal);
}

function searchInteraction(minimal: boolean): Interaction {
  return minimal ? 'getNHSNumber' : 'getPatientDetailsBySearch';
}

function canSearch(query: PatientQuery): boolean {
  return Boolean(query.familyName && query.sex && query.dateOfBirth);
}

/** The next step to try after `outcome`, or undefined when the row's outcome is final. */
function nextStep(
  outcome: SmspOutcome,
  query: PatientQuery,
  options: StrategyOptions,
  tried: ReadonlySet<string>,
): { interaction: Interaction; query: PatientQuery; step: Fallback } | undefined {
  const search = searchInteraction(options.minimal);
  if (
    options.fallbacks.includes('search_when_not_verified') &&
    outcome.status === 'not_verified' &&
    canSearch(query) &&
    !tried.has('search_when_not_verified')
  ) {
    const { nhsNumber: _dropped, ...demographics } = query;
    return { interaction: search, query: demographics, step: 'search_when_not_verified' };
  }
  if (
    options.fallbacks.includes('search_without_postcode') &&
    outcome.status === 'no_match' &&
    outcome.interaction === search &&
    query.postcode &&
    !tried.has('search_without_postcode')
  ) {
    const { postcode: _dropped, ...withoutPostcode } = query;
    return { interaction: search, query: withoutPostcode, step: 'search_without_postcode' };
  }
  return undefined;
}

export async function traceRow(
  caller: SmspCaller,
  rowNumber: number,
  query: PatientQuery,
  options: StrategyOptions,
): Promise<RowResult> {
  const exchanges: TraceExchange[] = [];
  const tried = new Set<string>();
  const callOptions = { username: options.username, signal: options.signal };
  let currentQuery = query;
  if (options.stop?.aborted) throw new RowNotStartedError();
  let outcome = await caller.call(primaryInteraction(query, options.minimal), currentQuery, { ...callOptions, stop: options.stop });
  exchanges.push(...outcome.exchanges);
  for (let next = nextStep(outcome, currentQuery, options, tried); next; next = nextStep(outcome, currentQuery, options, tried)) {
    tried.add(next.step);
    currentQuery = next.query;
    outcome = await caller.call(next.interaction, currentQuery, callOptions);
    exchanges.push(...outcome.exchanges);
  }
  const steps = [...tried];
  return {
    rowNumber,
    status: outcome.status,
    reason: outcome.reason,
    detail: [outcome.detail, steps.length > 0 ? `after fallback ${steps.join(', ')}` : undefined]
      .filter(Boolean)
      .join('; ') || undefined,
    interaction: outcome.interaction,
    responseCode: outcome.responseCode,
    messageId: outcome.messageId,
    nhsNumber: outcome.nhsNumber,
    supersededNhsNumber: outcome.supersededNhsNumber,
    patient: outcome.patient,
    ...(steps.length > 0 ? { fallbacks: steps } : {}),
    exchanges,
  };
}
