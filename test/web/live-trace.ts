import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditStore } from '../../src/audit/store.js';
import { loadConfig } from '../../src/config.js';
import { embeddedRunner } from '../../src/intake/runners.js';
import { submit, type SubmittedBatch } from '../../src/intake/submit.js';
import { createLocalLimiter } from '../../src/pipeline/limiter.js';
import { SIMULATOR_PROVIDER } from '../../src/pipeline/provider.js';
import { writeCohort } from '../../src/simulator/cohort.js';
import { createSmspClient, type SmspClient } from '../../src/smsp/client.js';
import { testSubmitter } from '../intake/submitter.js';
import { startTestSimulator, type TestSimulator } from '../support/simulator.js';

/**
 * Batches traced while a test watches: a generated cohort submitted through the intake (the one
 * way in) by a tracer, and traced in this process by the embedded runner against the simulator
 * over mutual TLS, held to a modest rate so that its progress can be seen moving.
 */

export const LIVE_POPULATION = { seed: 'web-live', size: 3000 };

export interface LiveTracer {
  simulator: TestSimulator;
  client: SmspClient;
  /** Submits a cohort of `rows` for `user`; `swapDates` writes each date of birth month first (a file read the wrong way). */
  trace(options: { dataDir: string; outDir: string; user: string; rows: number; name: string; swapDates?: boolean }): Promise<SubmittedBatch & { expectedPath: string }>;
  close(): Promise<void>;
}

/** `1944-05-07` as `05/07/1944`: month first, as a US spreadsheet would write it. */
function monthFirst(csv: string): string {
  return csv.replace(/(\d{4})-(\d{2})-(\d{2})/g, '$2/$3/$1');
}

export async function startLiveTracer(audit: AuditStore, ratePerSecond = 40): Promise<LiveTracer> {
  const simulator = await startTestSimulator({ ...LIVE_POPULATION, latencyMs: 5 });
  const settings = { ...loadConfig({}).smsp, url: simulator.url };
  const client = await createSmspClient(settings, { tls: simulator.clientTls, limiter: createLocalLimiter({ maxInFlight: 2, maxRatePerSecond: ratePerSecond, windowSlackMs: 50 }) });
  return {
    simulator,
    client,
    async trace({ dataDir, outDir, user, rows, name, swapDates }) {
      const cohort = await writeCohort({ ...LIVE_POPULATION, rows, outDir, name });
      if (swapDates) await writeFile(cohort.csvPath, monthFirst(await readFile(cohort.csvPath, 'utf8')));
      const submitted = await submit(
        { dataDir, provider: SIMULATOR_PROVIDER, duplicateWindowHours: 0 },
        {
          file: cohort.csvPath,
          wayIn: 'web',
          options: { format: 'native', minimal: false, fallbacks: [], outDir: path.join(outDir, user), bom: false, dayFirst: true, chunkSize: 10 },
          submitter: testSubmitter({ userId: user, roles: ['tracer'], kind: 'person' }, audit),
        },
        embeddedRunner(dataDir, { caller: client, audit, maxInFlight: 2 }),
      );
      return { ...submitted, expectedPath: cohort.expectedPath };
    },
    async close() {
      client.close();
      await simulator.close();
    },
  };
}

export interface ProgressEvent {
  state: string;
  stage: string;
  done: number;
  rows: number | null;
  ended: boolean;
  byStatus: Record<string, number>;
  lowMatch: { rows: number; found: number; percent: number; threshold: number } | null;
}

/** Reads `GET /api/batches/:id/events` until the stream ends or `stop` says so; returns every progress event. */
export async function readProgressEvents(url: string, cookie: string, stop: (event: ProgressEvent) => boolean = () => false): Promise<{ events: ProgressEvent[]; ended: boolean; headers: Headers }> {
  const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' } });
  if (response.status !== 200) throw new Error(`events: ${response.status} ${await response.text()}`);
  const events: ProgressEvent[] = [];
  let ended = false;
  let buffer = '';
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name === 'end') ended = true;
        if (name === 'progress' && data) {
          const event = JSON.parse(data) as ProgressEvent;
          events.push(event);
          if (stop(event)) return { events, ended, headers: response.headers };
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return { events, ended, headers: response.headers };
}
