import { afterEach, describe, expect, it } from 'vitest';
import {
  createFaultPlan,
  createRandom,
  FAULT_KINDS,
  FAULTS,
  FaultSpecError,
  parseFaultSpec,
  triggeredFault,
  type FaultKind,
} from '../../src/simulator/faults.js';
import {
  fakeDirectory,
  itkErrorCodeOf,
  rawPost,
  rawRequest,
  responseCodeOf,
  startTestSimulator,
  type TestSimulator,
} from '../support/simulator.js';

const QUERY = { familyName: 'SMITH', dateOfBirth: '19800101', sex: '1' as const };

describe('parseFaultSpec', () => {
  it('reads kind=rate pairs, spaces allowed', () => {
    expect(parseFaultSpec('busy=0.05, fault2100=0.02,fault2200=0.01,smsp9999=0.01,smsp0004=0.01,reset=0.01,hang=0.001')).toEqual({
      busy: 0.05,
      fault2100: 0.02,
      fault2200: 0.01,
      smsp9999: 0.01,
      smsp0004: 0.01,
      reset: 0.01,
      hang: 0.001,
    });
    expect(parseFaultSpec('')).toEqual({});
  });

  it.each([
    ['busy', 'expected kind=rate'],
    ['slow=0.1', 'unknown fault'],
    ['busy=1.5', 'from 0 to 1'],
    ['busy=-0.1', 'from 0 to 1'],
    ['busy=abc', 'from 0 to 1'],
    ['busy=', 'from 0 to 1'],
    ['busy=0.1,busy=0.2', 'named twice'],
    ['busy=0.6,reset=0.5', 'add up to more than 1'],
  ])('refuses %j (%s)', (spec, problem) => {
    expect(() => parseFaultSpec(spec)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(spec)).toThrow(problem);
  });
});

describe('fault decisions', () => {
  it('fire each kind at its configured rate, within tolerance, from a seeded generator', () => {
    const rates = { busy: 0.1, fault2100: 0.05, reset: 0.2 };
    const plan = createFaultPlan({ rates, seed: 42 });
    const counts = new Map<FaultKind | undefined, number>();
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const kind = plan.decide(QUERY);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    for (const [kind, rate] of Object.entries(rates)) {
      expect((counts.get(kind as FaultKind) ?? 0) / draws).toBeGreaterThan(rate * 0.85);
      expect((counts.get(kind as FaultKind) ?? 0) / draws).toBeLessThan(rate * 1.15);
    }
    expect(counts.get('hang')).toBeUndefined();
  });

  it('repeat exactly for the same seed and differ for another', () => {
    const run = (seed: string) => {
      const plan = createFaultPlan({ rates: { busy: 0.3 }, seed });
      return Array.from({ length: 200 }, () => plan.decide(QUERY) ?? '-').join(',');
    };
    expect(run('a')).toBe(run('a'));
    expect(run('a')).not.toBe(run('b'));
  });

  it('fire a fault every time its trigger family name is sent, whatever the rates and case', () => {
    const plan = createFaultPlan({ rates: {}, seed: 1 });
    for (const kind of FAULT_KINDS) {
      const trigger = FAULTS[kind].trigger;
      expect(plan.decide({ ...QUERY, familyName: trigger })).toBe(kind);
      expect(triggeredFault({ ...QUERY, familyName: ` ${trigger.toLowerCase()} ` })).toBe(kind);
    }
    expect(plan.decide(QUERY)).toBeUndefined();
    expect(triggeredFault({ dateOfBirth: '1980' })).toBeUndefined();
  });

  it('keep latency within latency ± jitter, never below zero', () => {
    const plan = createFaultPlan({ latencyMs: 50, jitterMs: 20, seed: 7 });
    const delays = Array.from({ length: 2000 }, () => plan.delayMs());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...delays)).toBeLessThanOrEqual(70);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(30);
    expect(createFaultPlan({ latencyMs: 5, jitterMs: 50, seed: 7 }).delayMs()).toBeGreaterThanOrEqual(0);
    expect(createFaultPlan({ latencyMs: 25 }).delayMs()).toBe(25);
  });

  it('draw uniformly in [0, 1)', () => {
    const random = createRandom('x');
    const draws = Array.from({ length: 10_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.47);
    expect(mean).toBeLessThan(0.53);
  });
});

describe('faults over mutual TLS', () => {
  let simulator: TestSimulator | undefined;
  afterEach(async () => {
    await simulator?.close();
    simulator = undefined;
  });

  const found = fakeDirectory(() => ({ responseCode: 'SMSP-0000', nhsNumber: '9990000018' }));

  it('answer each trigger with its fault', async () => {
    simulator = await startTestSimulator({ directory: found });
    const send = (familyName: string) => rawPost(simulator!, rawRequest('getNHSNumber', { ...QUERY, familyName }));

    expect((await send('FAULT-BUSY')).status).toBe(503);

    const retryable = await send('FAULT-2100');
    expect(retryable.status).toBe(500);
    expect(retryable.body).toContain('<faultcode>soap:Server</faultcode>');
    expect(itkErrorCodeOf(retryable.body)).toBe('2100');

    const fatal = await send('FAULT-2200');
    expect(fatal.status).toBe(500);
    expect(itkErrorCodeOf(fatal.body)).toBe('2200');

    const failure = await send('FAULT-9999');
    expect(failure.status).toBe(200);
    expect(responseCodeOf(failure.body)).toBe('SMSP-9999');

    const spine = await send('FAULT-0004');
    expect(spine.status).toBe(200);
    expect(responseCodeOf(spine.body)).toBe('SMSP-0004');

    await expect(send('FAULT-RESET')).rejects.toMatchObject({ code: 'ECONNRESET' });

    expect(simulator.metrics().faults).toEqual({ busy: 1, fault2100: 1, fault2200: 1, smsp9999: 1, smsp0004: 1, reset: 1 });
    expect(simulator.metrics().requests.getNHSNumber).toEqual({
      'HTTP-503': 1,
      'ITK-2100': 1,
      'ITK-2200': 1,
      'SMSP-9999': 1,
      'SMSP-0004': 1,
      RESET: 1,
    });
  });

  it('leaves a hanging request open until close, and close releases it promptly', async () => {
    simulator = await startTestSimulator({ directory: found });
    const hanging = rawPost(simulator, rawRequest('getNHSNumber', { ...QUERY, familyName: 'FAULT-HANG' }));
    const settled = hanging.then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(simulator.metrics().inFlight).toBe(1);
    expect(simulator.metrics().requests.getNHSNumber).toEqual({ HANG: 1 });

    const started = Date.now();
    await simulator.close();
    expect(await settled).toBe('dropped');
    expect(Date.now() - started).toBeLessThan(2000);
    simulator = undefined;
  });

  it('fire a rate-configured fault at about its rate over the wire', async () => {
    simulator = await startTestSimulator({ directory: found, faults: 'fault2100=0.25', faultSeed: 'wire' });
    const requests = 200;
    const statuses: number[] = [];
    for (let batch = 0; batch < requests / 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => rawPost(simulator!, rawRequest('getNHSNumber', QUERY))));
      statuses.push(...answers.map((a) => a.status));
    }
    const faults = statuses.filter((s) => s === 500).length;
    expect(faults / requests).toBeGreaterThan(0.15);
    expect(faults / requests).toBeLessThan(0.35);
    expect(statuses.filter((s) => s === 200)).toHaveLength(requests - faults);
    expect(simulator.metrics().faults).toEqual({ fault2100: faults });
  });

  it('answer a request above the provider in-flight cap with 503 at once', async () => {
    simulator = await startTestSimulator({ directory: found, maxInFlight: 2, latencyMs: 1000 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => rawPost(simulator!, rawRequest('getNHSNumber', QUERY))));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503, 503]);
    expect(simulator.metrics().faults).toEqual({ 'in-flight-cap': 3 });
    expect(simulator.metrics().maxInFlight).toBeGreaterThanOrEqual(3);
  });

  it('add latency to answers', async () => {
    simulator = await startTestSimulator({ directory: found, latencyMs: 250 });
    const started = Date.now();
    await rawPost(simulator, rawRequest('getNHSNumber', QUERY));
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('count their own work in the latency, as the response time of a provider does', async () => {
    const slow = fakeDirectory(() => {
      const until = performance.now() + 150;
      while (performance.now() < until); // the simulator busy for 150 ms
      return { responseCode: 'DEMOG-0001' };
    });
    simulator = await startTestSimulator({ directory: slow, latencyMs: 250 });
    const started = Date.now();
    await rawPost(simulator, rawRequest('getNHSNumber', QUERY));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    // 250 ms from arrival, not 150 + 250.
    expect(elapsed).toBeLessThan(370);
  });
});
