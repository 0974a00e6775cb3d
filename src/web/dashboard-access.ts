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
const OPERATOR_ACTIONS: ReadonlySet<string> = new Set([
  'PUT /api/queues/pause',
  'PUT /api/queues/resume',
  'PUT /api/queues/:queueName/pause',
  'PUT /api/queues/:queueName/resume',
  'PUT /api/queues/:queueName/retry/:queueStatus',
  'PUT /api/queues/:queueName/promote',
  'PUT /api/queues/:queueName/clean/:queueStatus',
  'PUT /api/queues/:queueName/:jobId/retry',
  'PUT /api/queues/:queueName/:jobId/promote',
  'PUT /api/queues/:queueName/:jobId/clean',
  'PUT /api/queues/:queueName/job-schedulers/:schedulerId/run',
]);

const READING = new Set(['GET', 'HEAD']);

export type DashboardDecision = { allowed: true } | { allowed: false; why: string };

/** Whether a request to the dashboard route `routePath` (its pattern, prefix included) may go ahead. */
export function dashboardDecision(method: string, routePath: string, mayOperate: boolean): DashboardDecision {
  if (READING.has(method)) return { allowed: true };
  const action = `${method} ${routePath.slice(DASHBOARD_PREFIX.length)}`;
  if (!OPERATOR_ACTIONS.has(action)) return { allowed: false, why: 'The queue dashboard does not do this: use the pds-trace commands, which check and audit it.' };
  if (!mayOperate) return { allowed: false, why: 'Your role may look at the queues but not change them (it needs queue.operate).' };
  return { allowed: true };
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
