import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { ROLE_NAMES, ROLES } from '../../auth/roles.js';
import type { WebContext } from '../server.js';
import { accountView, addUser, asProblem, changeUser, UserAdminProblem, type UserChange } from '../user-admin.js';

/**
 * The page `/admin/users` (users.manage): every account with its roles and state, a form to add a
 * person or a service account, and each account's actions — roles, disable or enable, unlock, a
 * new password or token. Every form posts to the page itself with an `action`; the answer is the
 * page again, with what was done or an error summary (NHS design system), never a redirect, so a
 * new service token can be shown on it once and put nowhere else (no URL, no session).
 */

type FormValue = string | string[] | undefined;
type UsersForm = Record<string, FormValue>;

const ROUTE = 'POST /admin/users';

function text(value: FormValue): string {
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

/** Checkboxes send one value as a string, several as an array, none at all as nothing. */
function list(value: FormValue): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function roleItems(selected: readonly string[]) {
  return ROLE_NAMES.map((role) => ({ value: role, text: role, hint: { text: ROLES[role].description }, checked: selected.includes(role) }));
}

const STATE_TAGS = {
  enabled: { text: 'Enabled', classes: 'nhsuk-tag--green' },
  disabled: { text: 'Disabled', classes: 'nhsuk-tag--grey' },
  locked: { text: 'Locked', classes: 'nhsuk-tag--red' },
} as const;

function timeText(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
}

interface PageState {
  form?: UsersForm;
  /** Errors of the add form, by field. */
  fieldErrors?: Record<string, string>;
  /** An action on one account that was refused: that account's section opens and says why. */
  userError?: { id: string; message: string };
  done?: string;
  issuedToken?: { id: string; token: string };
}

function passwordsAgree(form: UsersForm): string {
  const password = list(form.password)[0] ?? '';
  if (password !== (list(form.confirmPassword)[0] ?? '')) throw new UserAdminProblem(400, 'bad_request', 'The two passwords differ; enter the same password twice', 'confirmPassword');
  return password;
}

export function registerAdminUsersPage(app: FastifyInstance, ctx: WebContext): void {
  const render = async (reply: FastifyReply, state: PageState, status = 200) => {
    const principal = reply.request.principal as Principal;
    const now = new Date(ctx.clock());
    const users = (await ctx.users.list()).map((user) => {
      const view = accountView(user, now);
      return { ...view, stateTag: STATE_TAGS[view.state], lockedUntilText: view.lockedUntil && timeText(view.lockedUntil), roleItems: roleItems(view.roles), own: view.id === principal.userId };
    });
    const fieldErrors = state.fieldErrors ?? {};
    const errors = [
      ...Object.entries(fieldErrors).map(([field, message]) => ({ text: message, href: `#add-${field}` })),
      ...(state.userError ? [{ text: `${state.userError.id}: ${state.userError.message}`, href: `#user-${state.userError.id}` }] : []),
    ];
    const form = state.form ?? {};
    return reply.page(
      'admin-users.njk',
      {
        title: 'Users',
        users,
        // What was typed comes back, except passwords: never echoed into a page.
        form: { id: text(form.id), displayName: text(form.displayName), kind: text(form.kind) || 'person' },
        addRoleItems: roleItems(list(form.roles)),
        fieldErrors,
        errors,
        userError: state.userError,
        done: state.done,
        issuedToken: state.issuedToken,
      },
      status,
    );
  };

  app.get('/admin/users', async (_request, reply) => render(reply, {}));

  app.post<{ Body: UsersForm }>('/admin/users', async (request, reply) => {
    const principal = request.principal as Principal;
    const form = request.body ?? {};
    const action = text(form.action);
    const id = text(form.id);
    if (action === 'add') {
      try {
        const kind = text(form.kind) === 'service' ? 'service' : 'person';
        // A password typed for a service account is refused (wrong_kind), not silently dropped.
        const password = kind === 'person' ? passwordsAgree(form) : list(form.password)[0] || undefined;
        const { user, token } = await addUser(ctx, principal, { id, roles: list(form.roles), kind, password, displayName: text(form.displayName) || undefined });
        return render(reply, { done: `Added ${user.id} (${user.kind}, ${user.roles.join(', ')}).`, issuedToken: token ? { id: user.id, token } : undefined });
      } catch (err) {
        const problem = asProblem(err);
        if (!problem) throw err;
        return render(reply, { form, fieldErrors: { [problem.field ?? 'id']: problem.message } }, problem.status);
      }
    }
    try {
      const change = changeFor(action, form);
      if (!change) throw new UserAdminProblem(400, 'bad_request', 'Choose what to change');
      const outcome = await changeUser(ctx, principal, id, change, ROUTE);
      if (outcome.token) return render(reply, { done: `New token for ${id}: the old one no longer works.`, issuedToken: { id, token: outcome.token } });
      return render(reply, { done: doneText(action, id, outcome.lockoutLifted) });
    } catch (err) {
      const problem = asProblem(err);
      if (!problem) throw err;
      return render(reply, { userError: { id, message: problem.message } }, problem.status);
    }
  });
}

function changeFor(action: string, form: UsersForm): UserChange | undefined {
  switch (action) {
    case 'roles':
      return { roles: list(form.roles) };
    case 'disable':
      return { disabled: true };
    case 'enable':
      return { disabled: false };
    case 'unlock':
      return { unlock: true };
    case 'password':
      return { password: passwordsAgree(form) };
    case 'token':
      return { replaceToken: true };
    default:
      return undefined;
  }
}

function doneText(action: string, id: string, lockoutLifted: boolean): string {
  if (action === 'enable') return lockoutLifted ? `${id} enabled; the lockout after failed sign-ins is lifted.` : `${id} enabled.`;
  if (action === 'unlock') return lockoutLifted ? `${id} unlocked: the lockout after failed sign-ins is lifted.` : `${id} was not locked; its count of failed sign-ins is cleared.`;
  if (action === 'disable') return `${id} disabled: they cannot sign in, and a session of theirs ends at its next request.`;
  if (action === 'password') return `Password set for ${id}.`;
  return `Roles of ${id} changed.`;
}
