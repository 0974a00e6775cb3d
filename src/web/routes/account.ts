import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import type { WebContext } from '../server.js';
import { asProblem, changeUser, UserAdminProblem } from '../user-admin.js';

/**
 * `/account`: who you are signed in as, and changing your own password — `pds-trace users passwd
 * <your id>` in a browser, for every person whatever their role. The current password is asked for
 * and checked as a sign-in (user-admin.ts), so a session left open cannot be used to take the
 * account over.
 */

interface PasswordForm {
  currentPassword?: string;
  password?: string;
  confirmPassword?: string;
}

export function registerAccountPage(app: FastifyInstance, ctx: WebContext): void {
  const render = (reply: FastifyReply, state: { fieldErrors?: Record<string, string>; done?: string }, status = 200) => {
    const fieldErrors = state.fieldErrors ?? {};
    const errors = Object.entries(fieldErrors).map(([field, text]) => ({ text, href: `#${field}` }));
    return reply.page('account.njk', { title: 'Your account', fieldErrors, errors, done: state.done }, status);
  };

  app.get('/account', async (_request, reply) => render(reply, {}));

  app.post<{ Body: PasswordForm }>('/account', async (request, reply) => {
    const principal = request.principal as Principal;
    const { currentPassword = '', password = '', confirmPassword = '' } = request.body ?? {};
    try {
      if (password !== confirmPassword) throw new UserAdminProblem(400, 'bad_request', 'The two new passwords differ; enter the same password twice', 'confirmPassword');
      await changeUser(ctx, principal, principal.userId, { password, currentPassword }, 'POST /account');
    } catch (err) {
      const problem = asProblem(err);
      if (!problem) throw err;
      return render(reply, { fieldErrors: { [problem.field ?? 'password']: problem.message } }, problem.status);
    }
    return render(reply, { done: 'Your password has been changed. Use the new one next time you sign in.' });
  });
}
