import type { PatientQuery } from '../domain/demographics.js';

/**
 * Faults on demand, so clients can be tried against a provider that misbehaves the ways SPEC §6.3
 * describes: by rate (a fault spec such as `busy=0.05,fault2100=0.02`) or by trigger (a family name
 * such as `FAULT-BUSY` fires that fault every time). Rates draw from a seedable generator, so a test
 * that fires 1,000 requests sees the same faults on every run.
 *
 * Faults apply to requests that pass the protocol rules: a broken request gets the rule's answer.
 * The provider-side in-flight cap (`maxInFlight`) is the server's: it answers 503 before any of this.
 */

export const FAULT_KINDS = ['busy', 'fault2100', 'fault2200', 'smsp9999', 'smsp0004', 'reset', 'hang'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultEffect =
  | { kind: 'http-status'; status: 503 }
  | { kind: 'itk-fault'; itkCode: '2100' | '2200' }
  | { kind: 'response-code'; responseCode: 'SMSP-9999' | 'SMSP-0004' }
  | { kind: 'reset' }
  | { kind: 'hang' };

export interface FaultDefinition {
  /** Family name that fires the fault deterministically (compared case-insensitively). */
  trigger: string;
  effect: FaultEffect;
  description: string;
}

/** The faults, their triggers and what the client sees. Adding a fault is one entry here. */
export const FAULTS: Readonly<Record<FaultKind, FaultDefinition>> = {
  busy: {
    trigger: 'FAULT-BUSY',
    effect: { kind: 'http-status', status: 503 },
    description: 'HTTP 503, the ITK "busy tone": retry after a back-off (SPEC §6.3)',
  },
  fault2100: {
    trigger: 'FAULT-2100',
    effect: { kind: 'itk-fault', itkCode: '2100' },
    description: 'HTTP 500 SOAP fault soap:Server, ITK 2100 processing error, retryable',
  },
  fault2200: {
    trigger: 'FAULT-2200',
    effect: { kind: 'itk-fault', itkCode: '2200' },
    description: 'HTTP 500 SOAP fault soap:Server, ITK 2200 processing error, not retryable',
  },
  smsp9999: {
    trigger: 'FAULT-9999',
    effect: { kind: 'response-code', responseCode: 'SMSP-9999' },
    description: 'HTTP 200 response payload SMSP-9999, generic provider software failure',
  },
  smsp0004: {
    trigger: 'FAULT-0004',
    effect: { kind: 'response-code', responseCode: 'SMSP-0004' },
    description: 'HTTP 200 response payload SMSP-0004, could not connect to Spine',
  },
  reset: {
    trigger: 'FAULT-RESET',
    effect: { kind: 'reset' },
    description: 'the connection is reset before any answer',
  },
  hang: {
    trigger: 'FAULT-HANG',
    effect: { kind: 'hang' },
    description: 'no answer at all until the client gives up (or the simulator closes)',
  },
};

export type FaultRates = Partial<Record<FaultKind, number>>;

/** A fault spec that cannot be used. Names the entry and what is wrong with it. */
export class FaultSpecError extends Error {
  override readonly name = 'FaultSpecError';
  constructor(
    readonly entry: string,
    readonly problem: string,
  ) {
    super(`fault spec entry "${entry}": ${problem}`);
  }
}

/**
 * Parses `kind=rate,kind=rate` (rates 0..1; the kinds are FAULT_KINDS). One fault at most fires per
 * request, so the rates may add up to 1 at most.
 */
export function parseFaultSpec(spec: string): FaultRates {
  const rates: FaultRates = {};
  for (const entry of spec.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const [name, value, ...rest] = entry.split('=').map((part) => part.trim());
    if (name === undefined || value === undefined || rest.length > 0) throw new FaultSpecError(entry, 'expected kind=rate');
    if (!(FAULT_KINDS as readonly string[]).includes(name)) throw new FaultSpecError(entry, `unknown fault; use one of ${FAULT_KINDS.join(', ')}`);
    const rate = Number(value);
    if (value === '' || !Number.isFinite(rate) || rate < 0 || rate > 1) throw new FaultSpecError(entry, 'the rate must be a number from 0 to 1');
    if (rates[name as FaultKind] !== undefined) throw new FaultSpecError(entry, 'the fault is named twice');
    rates[name as FaultKind] = rate;
  }
  const total = Object.values(rates).reduce((sum, rate) => sum + rate, 0);
  // A little room for decimal rounding (0.1 + 0.2 ...).
  if (total > 1 + 1e-9) throw new FaultSpecError(spec, 'the rates add up to more than 1');
  return rates;
}

/** The fault a family name triggers, if it is one of the FAULTS triggers. */
export function triggeredFault(query: PatientQuery | undefined): FaultKind | undefined {
  const family = query?.familyName?.trim().toUpperCase();
  if (!family) return undefined;
  return FAULT_KINDS.find((kind) => FAULTS[kind].trigger === family);
}

export interface FaultPlanOptions {
  rates?: FaultRates;
  /** Added to every answer, in milliseconds. */
  latencyMs?: number;
  /** Latency varies uniformly within ± this many milliseconds (never below 0). */
  jitterMs?: number;
  /** Seed of the generator that draws rates and jitter; the same seed gives the same sequence. */
  seed?: string | number;
}

export interface FaultPlan {
  /** The fault for this request: its trigger if it names one, else a draw against the rates. */
  decide(query: PatientQuery | undefined): FaultKind | undefined;
  /** How long to wait before answering this request. */
  delayMs(): number;
}

export function createFaultPlan(options: FaultPlanOptions = {}): FaultPlan {
  const seed = options.seed ?? Date.now();
  // Separate streams, so adding jitter does not change which requests fail.
  const faultDraws = createRandom(seed);
  const jitterDraws = createRandom(`${seed}:jitter`);
  const rates = FAULT_KINDS.map((kind) => [kind, options.rates?.[kind] ?? 0] as const).filter(([, rate]) => rate > 0);
  const latency = options.latencyMs ?? 0;
  const jitter = options.jitterMs ?? 0;
  return {
    decide(query) {
      const triggered = triggeredFault(query);
      if (triggered !== undefined) return triggered;
      if (rates.length === 0) return undefined;
      // One draw per request against the cumulative rates: each kind fires at its own rate and
      // at most one fires.
      let draw = faultDraws();
      for (const [kind, rate] of rates) {
        if (draw < rate) return kind;
        draw -= rate;
      }
      return undefined;
    },
    delayMs() {
      if (jitter <= 0) return Math.max(0, latency);
      return Math.max(0, latency + (jitterDraws() * 2 - 1) * jitter);
    },
  };
}

/**
 * A small seeded generator of [0, 1) draws (mulberry32 over an FNV-1a hash of the seed). Not for
 * anything secret; only for reproducible fault sequences.
 */
export function createRandom(seed: string | number): () => number {
  let hash = 0x811c9dc5;
  for (const char of String(seed)) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  let state = hash >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
