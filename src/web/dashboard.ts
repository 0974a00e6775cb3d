import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasPermission, type Principal } from '../auth/authorise.js';
import { auditAs } from './access-hook.js';
import { countsOnly, DASHBOARD_CSP, DASHBOARD_PREFIX, dashboardDecision, MAY_OPERATE_HEADER, operatedEvent, operatorAction, referencesOnly, type OperatedTarget } from './dashboard-access.js';
import { sendProblem } from './problems.js';
import { webQueues } from './queue-connection.js';
import type { WebContext } from './server.js';

/**
 * The queue dashboard of `pds-trace serve`: bull-board at /admin/dashboard, over the pipeline's
 * queues and the schedules' queue, when REDIS_URL is set (without it there are no queues, and the
 * page says so). Who may see it is the access hook's (page rule `/admin/dashboard`, which
 * route-rules.ts gives every route under the prefix); what they may change is
 * dashboard-access.ts's, decided here per request, and the board is presented read-only to anyone
 * who may not change it. Job data shows as ids only. Each change made is audited (`queue_operated`)
 * once bull-board has done it, before the page hears it was; a refused one is audited as
 * `access_denied`.
 */

/**
 * Records an operator's action that went ahead (bull-board answered 2xx: a retry of a job not in
 * a retriable state is a 400 and changed nothing). Before the answer is sent, so the page is told
 * of no change the trail lacks; refusals never get here (they are answered in onRequest).
 */
async function auditOperated(ctx: WebContext, request: FastifyRequest, status: number): Promise<void> {
  const action = operatorAction(request.method, request.routeOptions.url ?? '');
  if (!action || status < 200 || status >= 300 || !request.principal) return;
  await ctx.audit.append(auditAs(ctx, request.principal as Principal, [operatedEvent(action, request.params as OperatedTarget)]));
}

function idsOnly(adapter: BullMQAdapter): BullMQAdapter {
  adapter.setFormatter('data', referencesOnly);
  adapter.setFormatter('returnValue', countsOnly);
  adapter.setFormatter('progress', countsOnly);
  return adapter;
}

export async function registerQueueDashboard(app: FastifyInstance, ctx: WebContext): Promise<void> {
  const { config } = ctx;
  if (!config.redisUrl) {
    app.get(DASHBOARD_PREFIX, (_request, reply) =>
      reply.page('error.njk', {
        title: 'Queue dashboard',
        message: 'The queue dashboard shows the BullMQ queues, and this service runs without them (REDIS_URL is not set). Set REDIS_URL for serve, as for the workers, to see them here.',
      }),
    );
    return;
  }
  const { all } = webQueues(app, config)!;

  const serverAdapter = new FastifyAdapter().setBasePath(DASHBOARD_PREFIX);
  createBullBoard({
    queues: all.map((queue) => idsOnly(new BullMQAdapter(queue, { allowRetries: true }))),
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'pds-trace queues', hideDocsLink: true, miscLinks: [{ text: 'Queues', url: '/queues' }, { text: 'Batches', url: '/batches' }] },
      handlerHooks: {
        // The same board, shown read-only to whoever may not change it (bull-board's readOnlyMode
        // is per queue, not per request); their changes are refused below in any case.
        after: (context, result) => {
          if (context.request.headers[MAY_OPERATE_HEADER] === 'yes') return result;
          const body = result.body as { queues?: Array<Record<string, unknown>> };
          for (const queue of body.queues ?? []) Object.assign(queue, { readOnlyMode: true, allowRetries: false, allowCompletedRetries: false });
          return result;
        },
      },
    },
  });

  await app.register(
    async (board) => {
      board.addHook('onRequest', async (request, reply) => {
        // The access hook (server.ts) has already let the request in under dashboard.view.
        const mayOperate = request.principal !== undefined && hasPermission(request.principal, 'queue.operate');
        request.headers[MAY_OPERATE_HEADER] = mayOperate ? 'yes' : 'no';
        const routePath = request.routeOptions.url ?? '';
        const decision = dashboardDecision(request.method, routePath, mayOperate);
        if (decision.allowed) {
          // bull-board's page sends its changes with axios, which returns this cookie as the
          // X-XSRF-TOKEN header: the service's CSRF check (server.ts) then holds here too.
          if (request.method === 'GET' && !routePath.startsWith(`${DASHBOARD_PREFIX}/static/`)) {
            reply.setCookie('XSRF-TOKEN', reply.generateCsrf(), { path: DASHBOARD_PREFIX, sameSite: 'strict', secure: request.protocol === 'https' });
          }
          return;
        }
        if (request.principal) {
          await ctx.audit.append(auditAs(ctx, request.principal, [{ kind: 'access_denied', outcome: 'refused', detail: `page=${DASHBOARD_PREFIX} ${request.method} ${request.routeOptions.url}` }]));
        }
        return sendProblem(request, reply, 403, 'forbidden', decision.why);
      });
      board.addHook('onSend', async (request, reply, payload) => {
        reply.header('content-security-policy', DASHBOARD_CSP);
        await auditOperated(ctx, request, reply.statusCode);
        return payload;
      });
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: DASHBOARD_PREFIX },
  );
}
