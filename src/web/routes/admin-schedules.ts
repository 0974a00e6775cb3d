import { access } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { localTime } from '../../domain/local-time.js';
import { readSchedulesDocument } from '../../intake/schedules/schedule-changes.js';
import { loadSchedules, ScheduleFileError, type Schedule } from '../../intake/schedules/schedule-file.js';
import { scheduleStatuses, type ScheduleStatus } from '../../intake/schedules/schedule-queue.js';
import { changeSchedules, NOT_CONFIGURED_MESSAGE, withScheduleQueue, type ScheduleChangeResult } from '../admin/schedule-changes.js';
import { sendProblem, type ProblemCode } from '../problems.js';
import type { WebContext } from '../server.js';

/**
 * The nightly schedules for administrators: `/admin/schedules` lists each with its next run, last
 * run and outcome (what `pds-trace schedule list` shows) and edits the schedules file as one JSON
 * document, every problem listed by schedule and key; `PUT /api/schedules` takes the same document
 * from scripts. The document, not a form per field, because the file is the configuration: what is
 * saved is exactly what `schedule sync` and the workers read.
 */

interface PageState {
  document?: string;
  errors?: string[];
  result?: Extract<ScheduleChangeResult, { kind: 'changed' }>;
}

export function registerAdminSchedules(app: FastifyInstance, ctx: WebContext): void {
  /** The statuses of the file's schedules, as `schedule list` has them; next runs only while Redis answers. */
  async function statuses(schedules: readonly Schedule[]): Promise<{ list: ScheduleStatus[]; redis: 'none' | 'ok' | 'down' }> {
    try {
      return await withScheduleQueue(ctx, async (queue) => ({ list: await scheduleStatuses(queue, ctx.config.dataDir, schedules), redis: queue ? 'ok' : 'none' }));
    } catch {
      return { list: await scheduleStatuses(undefined, ctx.config.dataDir, schedules), redis: 'down' };
    }
  }

  async function render(reply: FastifyReply, state: PageState = {}, status = 200): Promise<FastifyReply> {
    const file = ctx.config.schedulesFile;
    if (!file) return reply.page('admin-schedules.njk', { title: 'Schedules', notConfigured: NOT_CONFIGURED_MESSAGE }, status);
    let schedules: Schedule[] = [];
    let fileProblems: string[] = [];
    // A file not there yet simply holds no schedules.
    const exists = await access(file).then(() => true, () => false);
    try {
      if (exists) schedules = await loadSchedules(file);
    } catch (err) {
      if (!(err instanceof ScheduleFileError)) throw err;
      fileProblems = err.problems;
    }
    const { list, redis } = await statuses(schedules);
    const rows = list.map((s) => ({ ...s, nextText: s.next ? localTime(s.next, s.timezone) : 'not installed', lastText: s.last ? `${localTime(s.last.slot, s.timezone)}${s.last.late ? ' (late)' : ''}` : 'not run yet' }));
    const errors = (state.errors ?? []).map((text) => ({ text, href: '#document' }));
    return reply.page(
      'admin-schedules.njk',
      { title: 'Schedules', file, rows, redis, fileProblems, document: state.document ?? (await readSchedulesDocument(file)), errors, result: state.result },
      status,
    );
  }

  app.get('/admin/schedules', async (_request, reply) => render(reply));

  app.post<{ Body: { document?: string } }>('/admin/schedules', async (request, reply) => {
    if (!ctx.config.schedulesFile) return sendProblem(request, reply, 409, 'schedules_not_configured', NOT_CONFIGURED_MESSAGE);
    const document = request.body?.document ?? '';
    let raw: unknown;
    try {
      raw = JSON.parse(document);
    } catch (err) {
      return render(reply, { document, errors: [`The schedules are not valid JSON: ${(err as Error).message}. Nothing was saved.`] }, 400);
    }
    const result = await changeSchedules(ctx, request.principal as Principal, raw);
    if (result.kind === 'not_configured') return sendProblem(request, reply, 409, 'schedules_not_configured', NOT_CONFIGURED_MESSAGE);
    if (result.kind === 'invalid') return render(reply, { document, errors: result.problems }, 400);
    return render(reply, { result });
  });

  app.put('/api/schedules', async (request, reply) => {
    const result = await changeSchedules(ctx, request.principal as Principal, request.body ?? null);
    if (result.kind === 'not_configured') return sendProblem(request, reply, 409, 'schedules_not_configured', NOT_CONFIGURED_MESSAGE);
    if (result.kind === 'invalid') return reply.code(422).send({ code: 'invalid_schedules' satisfies ProblemCode, message: `Nothing was saved: ${result.problems.join('; ')}`, problems: result.problems });
    const { added, changed, removed, unchanged } = result.changes;
    const answer = { added, changed, removed, unchanged, synced: result.synced !== undefined, warnings: result.synced?.warnings ?? [] };
    if (result.syncError) return reply.code(503).send({ code: 'schedules_not_synced' satisfies ProblemCode, message: result.syncError, ...answer });
    return answer;
  });
}
