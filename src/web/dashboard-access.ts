/**
 * What the queue dashboard (bull-board, src/web/dashboard.ts) lets each role do. Seeing it takes
 * `dashboard.view` (its page rule in ACCESS_RULES, checked by the one access hook for every one of
 * its routes); changing anything also takes `queue.operate`, and only the actions listed here:
 * anything else that would change a queue is refused to everyone, so a route a newer bull-board
 * adds is refused until someone decides it belongs here (fail closed).
 */

export const DASHBOARD_PREFIX = '/admin/dashboard';

/**
 * Set by the dashboard on every request it answers, after removing whatever the client sent:
 * bull-board's handler hooks see headers only, and this is how they learn whether to present the
 * board read-only.
 */
export const MAY_OPERATE_HEADER = 'x-pds-trace-may-operate';

/**
 * Housekeeping an operator does from the board, as `pds-trace retry`/`resume` and
 * `schedule run` do from the command line. Not here, so refused: adding jobs or editing their
 * data, delay or priority (a job would carry what no intake checked, or jump the interactive
 * queue, property 10), emptying or obliterating a queue, changing its concurrency or rate limit
 * (the SMSP limit is ours, SMSP_MAX_*), and editing or removing schedules (the schedules file is
 * the configuration: `pds-trace schedule sync`).
 */
const OPERATOR_ACTIONS: ReadonlyMap<string, OperatorAction> = new Map<string, OperatorAction>([
  ['PUT /api/queues/pause', 'pause'],
  ['PUT /api/queues/resume', 'resume'],
  ['PUT /api/queues/:queueName/pause', 'pause'],
  ['PUT /api/queues/:queueName/resume', 'resume'],
  ['PUT /api/queues/:queueName/retry/:queueStatus', 'retry'],
  ['PUT /api/queues/:queueName/promote', 'promote'],
  ['PUT /api/queues/:queueName/clean/:queueStatus', 'clean'],
  ['PUT /api/queues/:queueName/:jobId/retry', 'retry'],
  ['PUT /api/queues/:queueName/:jobId/promote', 'promote'],
  ['PUT /api/queues/:queueName/:jobId/clean', 'clean'],
  ['PUT /api/queues/:queueName/job-schedulers/:schedulerId/run', 'run'],
]);

export type OperatorAction = 'pause' | 'resume' | 'retry' | 'promote' | 'clean' | 'run';

const READING = new Set(['GET', 'HEAD']);

export type DashboardDecision = { allowed: true } | { allowed: false; why: string };

/** Whether a request to the dashboard route `routePath` (its pattern, prefix included) may go ahead. */
export function dashboardDecision(method: string, routePath: string, mayOperate: boolean): DashboardDecision {
  if (READING.has(method)) return { allowed: true };
  if (operatorAction(method, routePath) === undefined) return { allowed: false, why: 'The queue dashboard does not do this: use the pds-trace commands, which check and audit it.' };
  if (!mayOperate) return { allowed: false, why: 'Your role may look at the queues but not change them (it needs queue.operate).' };
  return { allowed: true };
}

/** The operator's action a dashboard route is, or undefined for a route that changes nothing or is refused. */
export function operatorAction(method: string, routePath: string): OperatorAction | undefined {
  return OPERATOR_ACTIONS.get(`${method} ${routePath.slice(DASHBOARD_PREFIX.length)}`);
}

/** The parts of a dashboard route that say what was acted on: ids and a job state, never job data. */
export interface OperatedTarget {
  queueName?: string;
  jobId?: string;
  queueStatus?: string;
  schedulerId?: string;
}

/**
 * An operator's action done from the board, as the audit trail records it (`queue_operated`):
 * what, on which queue (`all` for the board's pause or resume of every queue), and the job, the
 * state of the jobs acted on in bulk or the schedule. bull-board names them from its route, so
 * each is an id or a state, never what a job holds.
 */
export function operatedEvent(action: OperatorAction, target: OperatedTarget): { kind: 'queue_operated'; outcome: OperatorAction; detail: string } {
  const parts = [`surface=web`, `action=${action}`, `queue=${target.queueName ?? 'all'}`];
  if (target.jobId !== undefined) parts.push(`job=${target.jobId}`);
  if (target.queueStatus !== undefined) parts.push(`jobs=${target.queueStatus}`);
  if (target.schedulerId !== undefined) parts.push(`schedule=${target.schedulerId}`);
  return { kind: 'queue_operated', outcome: action, detail: parts.join(' ') };
}

/**
 * The Content-Security-Policy of the dashboard's pages, in place of the rest of the service's.
 * bull-board's page is its own build, which we do not change: its loading indicator is written
 * with `style` attributes and a `<style>` element, and its job viewer (CodeMirror) adds `<style>`
 * elements of generated rules as it runs, with no way to hand it a nonce. So styles, and styles
 * only, may be inline here: a style cannot run script, and with every fetch, image and font held to
 * 'self' it cannot send anything elsewhere either. Scripts stay 'self' only, with no inline script
 * and no eval, as on every other page. Its web font from Google is not allowed (no third party
 * learns who opens the board): it falls back to a system font.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'self'",
].join('; ');

/** Job fields kept in what the board shows: the references jobs carry (src/pipeline/queues.ts). */
const REFERENCE_FIELDS = ['batchId', 'chunk', 'schedule', 'slot'] as const;

/**
 * A job's data as the board shows it: its references only. Our jobs carry nothing else, by design
 * (ARCHITECTURE "Job data in Redis holds references"); this keeps anything else, put there by
 * mistake or by hand, off the screen.
 */
export function referencesOnly(data: unknown): Record<string, string | number> {
  const shown: Record<string, string | number> = {};
  if (data === null || typeof data !== 'object') return shown;
  for (const field of REFERENCE_FIELDS) {
    const value = (data as Record<string, unknown>)[field];
    if (typeof value === 'string' || typeof value === 'number') shown[field] = value;
  }
  return shown;
}

/** A job's return value or progress as shown: numbers only (row counts, percentages), no words. */
export function countsOnly(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const shown: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const kept = countsOnly(inner);
    if (kept !== undefined) shown[key] = kept;
  }
  return shown;
}
