import { describe, expect, it } from 'vitest';
import type { PatientQuery } from '../../src/domain/demographics.js';
import type { Interaction } from '../../src/domain/interaction.js';
import type { TraceStatus } from '../../src/domain/outcome.js';
import type { SmspOutcome } from '../../src/smsp/types.js';
import { traceRow, withRowLimit, type SmspCaller, type StrategyOptions } from '../../src/pipeline/strategy.js';

const byNumber: PatientQuery = { nhsNumber: '9990000018', dateOfBirth: '19800101', familyName: 'SMITH', sex: '1', postcode: 'LS1 4AP' };
const byDemographics: PatientQuery = { dateOfBirth: '19800101', familyName: 'SMITH', sex: '1', postcode: 'LS1 4AP' };
const defaults: StrategyOptions = { minimal: false, fallbacks: [] };

/** A fake SMSP that answers each interaction with a scripted status and records what it was asked. */
function scripted(answers: Partial<Record<Interaction, TraceStatus[]>>) {
  const calls: Array<{ interaction: Interaction; query: PatientQuery }> = [];
  const caller: SmspCaller = {
    async call(interaction, query) {
      calls.push({ interaction, query });
      const status = answers[interaction]?.shift() ?? 'error';
      const outcome: SmspOutcome = {
        interaction,
        status,
        reason: status === 'no_match' ? 'no_match' : 'ok',
        retryable: false,
        durationMs: 1,
        messageId: `M${calls.length}`,
        exchanges: [{ interaction, messageId: `M${calls.length}`, attempt: 1, startedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, status, reason: 'ok' }],
        nhsNumber: status === 'matched' || status === 'verified' ? '9990000018' : undefined,
      };
      return outcome;
    },
  };
  return { caller, calls };
}

describe('trace strategy', () => {
  it('verifies a supplied NHS number with getPatientDetailsByNHSNumber and never searches by default', async () => {
    const { caller, calls } = scripted({ getPatientDetailsByNHSNumber: ['not_verified'] });
    const result = await traceRow(caller, 7, byNumber, defaults);
    expect(calls.map((c) => c.interaction)).toEqual(['getPatientDetailsByNHSNumber']);
    expect(result).toMatchObject({ rowNumber: 7, status: 'not_verified', interaction: 'getPatientDetailsByNHSNumber' });
  });

  it('searches by demographics when no NHS number is supplied', async () => {
    const { caller, calls } = scripted({ getPatientDetailsBySearch: ['matched'] });
    const result = await traceRow(caller, 1, byDemographics, defaults);
    expect(calls.map((c) => c.interaction)).toEqual(['getPatientDetailsBySearch']);
    expect(result.status).toBe('matched');
    expect(result.nhsNumber).toBe('9990000018');
  });

  it('uses verifyNHSNumber and getNHSNumber when minimal', async () => {
    const { caller, calls } = scripted({ verifyNHSNumber: ['verified'], getNHSNumber: ['matched'] });
    await traceRow(caller, 1, byNumber, { ...defaults, minimal: true });
    await traceRow(caller, 2, byDemographics, { ...defaults, minimal: true });
    expect(calls.map((c) => c.interaction)).toEqual(['verifyNHSNumber', 'getNHSNumber']);
  });

  it('searches without the NHS number only when the search_when_not_verified fallback is named', async () => {
    const { caller, calls } = scripted({ getPatientDetailsByNHSNumber: ['not_verified'], getPatientDetailsBySearch: ['matched'] });
    const result = await traceRow(caller, 1, byNumber, { ...defaults, fallbacks: ['search_when_not_verified'] });
    expect(calls.map((c) => c.interaction)).toEqual(['getPatientDetailsByNHSNumber', 'getPatientDetailsBySearch']);
    expect(calls[1]!.query.nhsNumber).toBeUndefined();
    expect(result.status).toBe('matched');
    expect(result.exchanges).toHaveLength(2);
    expect(result.detail).toContain('search_when_not_verified');
  });

  it('retries a search without the postcode only with the search_without_postcode fallback', async () => {
    const { caller, calls } = scripted({ getPatientDetailsBySearch: ['no_match', 'matched'] });
    const result = await traceRow(caller, 1, byDemographics, { ...defaults, fallbacks: ['search_without_postcode'] });
    expect(calls).toHaveLength(2);
    expect(calls[1]!.query.postcode).toBeUndefined();
    expect(result.status).toBe('matched');
  });

  it('never falls back after a technical error: an error stays an error, never a no_match', async () => {
    const { caller, calls } = scripted({ getPatientDetailsBySearch: ['error'] });
    const result = await traceRow(caller, 1, byDemographics, { ...defaults, fallbacks: ['search_without_postcode', 'search_when_not_verified'] });
    expect(calls).toHaveLength(1);
    expect(result.status).toBe('error');
  });
});

describe('row limit', () => {
  it('keeps twice the SMSP slots of calls in progress and starts the rest in the order they asked', async () => {
    const started: string[] = [];
    let inProgress = 0;
    let most = 0;
    const finishers: Array<() => void> = [];
    const caller: SmspCaller = {
      call: (interaction, query) =>
        new Promise((resolve) => {
          started.push(query.familyName!);
          most = Math.max(most, ++inProgress);
          finishers.push(() => {
            inProgress--;
            resolve({ interaction, status: 'no_match', reason: 'no_match', retryable: false, durationMs: 1, exchanges: [] });
          });
        }),
    };
    const limited = withRowLimit(caller, 3);
    const names = Array.from({ length: 20 }, (_, i) => `ROW${i}`);
    const all = Promise.all(names.map((familyName) => limited.call('getNHSNumber', { ...byDemographics, familyName })));
    while (started.length < names.length || finishers.length > 0) {
      await new Promise((r) => setImmediate(r));
      finishers.shift()?.();
    }
    await all;
    expect(most).toBe(6);
    expect(started).toEqual(names);
  });
});
