import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';
import { accountView, addUser, asProblem, changeUser, NEW_USER, schemaProblem, USER_CHANGE } from '../user-admin.js';

/**
 * `GET /api/users`, `POST /api/users`, `PATCH /api/users/:id`: `pds-trace users list | add |
 * set-roles | disable | enable | passwd` for scripts (src/web/user-admin.ts). Answers are never
 * cached: a new service account's token is in one, once.
 */

function sendRefusal(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const problem = asProblem(err);
  if (!problem) throw err;
  return sendProblem(request, reply, problem.status, problem.code, problem.message);
}

export function registerUsersApi(app: FastifyInstance, ctx: WebContext): void {
  const now = () => new Date(ctx.clock());

  app.get('/api/users', async (_request, reply) => {
    const users = await ctx.users.list();
    return reply.header('Cache-Control', 'no-store').send({ users: users.map((user) => accountView(user, now())) });
  });

  app.post('/api/users', async (request, reply) => {
    const parsed = NEW_USER.safeParse(request.body ?? {});
    try {
      if (!parsed.success) throw schemaProblem(parsed.error);
      const { user, token } = await addUser(ctx, request.principal as Principal, parsed.data);
      return reply
        .code(201)
        .header('Cache-Control', 'no-store')
        .send({ user: accountView(user, now()), ...(token ? { token } : {}) });
    } catch (err) {
      return sendRefusal(request, reply, err);
    }
  });

  app.patch<{ Params: { id: string } }>('/api/users/:id', async (request, reply) => {
    const parsed = USER_CHANGE.safeParse(request.body ?? {});
    try {
      if (!parsed.success) throw schemaProblem(parsed.error);
      const outcome = await changeUser(ctx, request.principal as Principal, request.params.id, parsed.data, 'PATCH /api/users/:id');
      return reply
        .header('Cache-Control', 'no-store')
        .send({ user: accountView(outcome.user, now()), lockoutLifted: outcome.lockoutLifted, ...(outcome.token ? { token: outcome.token } : {}) });
    } catch (err) {
      return sendRefusal(request, reply, err);
    }
  });
}
