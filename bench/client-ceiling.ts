import { loadConfig } from '../src/config.js';
import type { PatientQuery } from '../src/domain/demographics.js';
import { createLocalLimiter } from '../src/pipeline/limiter.js';
import { cohortRows } from '../src/simulator/cohort.js';
import { createSmspClient } from '../src/smsp/client.js';
import { idealRequestsPerSecond, smspEnv, startSimulatorProcess, POPULATION, UNBOUNDED_RATE } from './pipeline.js';

export interface ClientCeilingResult {
  requests: number;
  requestsPerSecond: number;
  percentOfIdeal: number;
  clientCpuUsPerRequest: number;
}

/**
 * The SMSP client on its own, no pipeline: getPatientDetailsByNHSNumber for the cohort's rows that
 * carry a number, `maxInFlight` at once, against the simulator process. Building, mutual TLS and
 * parsing are all a trace needs per row beyond the pipeline's own work, so this is the most any
 * runner could reach at this setting on this machine: the ceiling the pipeline figures sit under.
 */
export async function benchClientCeiling(options: { rows: number; maxInFlight: number; latencyMs: number; dir: string }): Promise<ClientCeilingResult> {
  const queries: PatientQuery[] = [];
  for (const { row } of cohortRows({ ...POPULATION, rows: options.rows })) {
    // Only rows a trace would send as they are: a ten-digit number and an ISO date of birth.
    if (/^\d{10}$/.test(row.nhs_number) && /^\d{4}-\d{2}-\d{2}$/.test(row.date_of_birth)) {
      queries.push({ nhsNumber: row.nhs_number, dateOfBirth: row.date_of_birth.replaceAll('-', '') });
    }
  }
  const simulator = await startSimulatorProcess(options.dir, options.latencyMs);
  const config = loadConfig(smspEnv(simulator, options.maxInFlight));
  const client = await createSmspClient(config.smsp, { limiter: createLocalLimiter({ maxInFlight: options.maxInFlight, maxRatePerSecond: UNBOUNDED_RATE }) });
  try {
    let next = 0;
    const cpuAtStart = process.cpuUsage();
    await Promise.all(
      // Twice as many callers as slots, so a freed slot never waits for a caller.
      Array.from({ length: options.maxInFlight * 2 }, async () => {
        while (next < queries.length) await client.call('getPatientDetailsByNHSNumber', queries[next++]!);
      }),
    );
    const cpu = process.cpuUsage(cpuAtStart);
    const status = await simulator.status();
    const seconds = (status.lastRequestMs! - status.firstRequestMs!) / 1000;
    const requestsPerSecond = (status.requestsTotal - 1) / seconds;
    return {
      requests: status.requestsTotal,
      requestsPerSecond,
      percentOfIdeal: (requestsPerSecond / idealRequestsPerSecond(options)) * 100,
      clientCpuUsPerRequest: (cpu.user + cpu.system) / status.requestsTotal,
    };
  } finally {
    client.close?.();
    await simulator.stop();
  }
}
