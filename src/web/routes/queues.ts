import type { FastifyInstance } from 'fastify';
import { hasPermission, type Principal } from '../../auth/authorise.js';
import { localTime } from '../../domain/local-time.js';
import { DASHBOARD_PREFIX } from '../dashboard-access.js';
import { sendProblem } from '../problems.js';
import { webQueues } from '../queue-connection.js';
import { QueuesUnreachableError, viewQueues, type QueueState } from '../queue-view.js';
import type { WebContext } from '../server.js';

/**
 * The queues at a glance, for roles with `batch.read.any` (admin, operator): `GET /api/queues` for
 * scripts and the `/queues` page, which keeps itself up to date from it (public/queues-refresh.mjs)
 * and links to the queue dashboard for changing anything. Counts, flags and batch ids only, so
 * reading them is not audited (no patient data; the batches list is not either). Redis not
 * answering is a 503 within seconds (`redis_unreachable`, naming REDIS_URL), never a hang.
 */

/** How each state shows on the page; the page's script takes the same words from it. */
const QUEUE_TAGS: Record<QueueState, { text: string; classes: string }> = {
  running: { text: 'Running', classes: 'nhsuk-tag--green' },
  no_workers: { text: 'No worker', classes: 'nhsuk-tag--yellow' },
  paused: { text: 'Paused', classes: 'nhsuk-tag--orange' },
};

export function registerQueueRoutes(app: FastifyInstance, ctx: WebContext): void {
  const queues = webQueues(app, ctx.config);
  const view = () => viewQueues(ctx.config, queues, new Date(ctx.clock()));

  // The page polls this while it is open: that is not the person using the service, so it does
  // not hold their session open past the idle timeout (as a batch page's progress does not).
  app.get('/api/queues', { config: { passiveSession: true } }, async (request, reply) => {
    try {
      return await view();
    } catch (err) {
      if (err instanceof QueuesUnreachableError) return sendProblem(request, reply, 503, err.code, err.message);
      throw err;
    }
  });

  app.get('/queues', async (request, reply) => {
    const context = {
      title: 'Queues',
      tags: QUEUE_TAGS,
      dashboard: hasPermission(request.principal as Principal, 'dashboard.view') ? DASHBOARD_PREFIX : undefined,
      // The board is read-only to anyone else (dashboard.ts): the page says what it is for them.
      mayOperate: hasPermission(request.principal as Principal, 'queue.operate'),
    };
    try {
      const shown = await view();
      return reply.page('queues.njk', { ...context, view: shown, checkedAt: localTime(shown.checkedAt) });
    } catch (err) {
      if (err instanceof QueuesUnreachableError) return reply.page('queues.njk', { ...context, unreachable: err.message }, 503);
      throw err;
    }
  });
}
