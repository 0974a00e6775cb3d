import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus metrics of a pds-trace process (`worker`, `watch`, `serve`), one registry per
 * process. Names start `pdstrace_`, times are in seconds, and no label ever holds a file name, a
 * user id or anything about a patient: labels come from closed sets (interaction, response code,
 * status, way in, queue, state), so an alerting system can hold them and nobody can read a person
 * out of them.
 */

/** SMSP answers in tens to hundreds of milliseconds; a timeout is tens of seconds. */
const SMSP_SECONDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Waiting for a slot under the global limit: none, a share of a second, or behind a long batch. */
const WAIT_SECONDS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A cohort takes seconds to minutes, a nightly extract hours. */
const BATCH_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 57_600];

export interface PdsTraceMetrics {
  readonly registry: Registry;
  readonly smspRequests: Counter<'interaction' | 'code'>;
  readonly smspDuration: Histogram<'interaction'>;
  readonly smspRetries: Counter<'interaction' | 'reason'>;
  readonly smspInFlight: Gauge;
  readonly limiterWait: Histogram;
  readonly smspBusy: Counter;
  readonly rows: Counter<'status' | 'way_in'>;
  readonly batchDuration: Histogram<'way_in'>;
  readonly auditAppendFailures: Counter;
  readonly watchFailures: Counter<'reason'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): PdsTraceMetrics {
  const registry = new Registry();
  // Memory, CPU and event-loop lag of this process, under the same prefix.
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'pdstrace_' });
  const registers = [registry];
  return {
    registry,
    smspRequests: new Counter({
      name: 'pdstrace_smsp_requests_total',
      help: 'SMSP requests sent, by interaction and the answer\'s response code (or, when nothing came back, why)',
      labelNames: ['interaction', 'code'],
      registers,
    }),
    smspDuration: new Histogram({ name: 'pdstrace_smsp_request_duration_seconds', help: 'Time from sending an SMSP request to reading its answer', labelNames: ['interaction'], buckets: SMSP_SECONDS, registers }),
    smspRetries: new Counter({ name: 'pdstrace_smsp_retries_total', help: 'SMSP requests sent again after a retryable failure, by the failure', labelNames: ['interaction', 'reason'], registers }),
    smspInFlight: new Gauge({ name: 'pdstrace_smsp_requests_in_flight', help: 'SMSP requests holding a slot of the global limit in this process', registers }),
    limiterWait: new Histogram({ name: 'pdstrace_limiter_wait_seconds', help: 'Time a request waited for a slot under the global SMSP concurrency and rate limit', buckets: WAIT_SECONDS, registers }),
    smspBusy: new Counter({ name: 'pdstrace_smsp_busy_total', help: 'Busy answers from SMSP (HTTP 503), each one slowing the limiter down', registers }),
    rows: new Counter({ name: 'pdstrace_rows_total', help: 'Rows finished, by final status and the way the file came in', labelNames: ['status', 'way_in'], registers }),
    batchDuration: new Histogram({ name: 'pdstrace_batch_duration_seconds', help: 'Time from submitting a batch to its outputs being written', labelNames: ['way_in'], buckets: BATCH_SECONDS, registers }),
    auditAppendFailures: new Counter({ name: 'pdstrace_audit_append_failures_total', help: 'Appends to the audit store that failed (each one stops the work that needed it)', registers }),
    watchFailures: new Counter({
      name: 'pdstrace_watch_failures_total',
      help: 'Watched files not traced: moved to failed/ (rejected, duplicate) or left in processing/ after an error (error)',
      labelNames: ['reason'],
      registers,
    }),
  };
}
