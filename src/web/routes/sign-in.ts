import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AuthenticationError, signInWithPassword } from '../../auth/authenticate.js';
import type { Principal } from '../../auth/authorise.js';
import { auditAs, sessionPrincipal } from '../access-hook.js';
import type { WebContext } from '../server.js';

/**
 * Signing in and out of the web service, with the CLI's authentication (src/auth/authenticate.ts):
 * the same lockout, and the same `sign_in` / `sign_in_failed` / `lockout` events in the audit
 * trail. A new session id is issued at sign-in (no session fixation) and the old one destroyed.
 */

/**
 * Sign-in attempts per client address and minute: one allowance shared by the page and the API
 * (a per-route limit would give each its own), counted before the body is read.
 */
export function signInRateLimit(app: FastifyInstance, ctx: WebContext): onRequestHookHandler {
  const limit = app.createRateLimit({ max: ctx.config.web.signInPerMinute, timeWindow: 60_000, keyGenerator: (request: FastifyRequest) => `sign-in:${request.ip}` });
  return async (request, reply) => {
    const result = await limit(request);
    if (!result.isAllowed && result.isExceeded) {
      reply.header('Retry-After', String(result.ttlInSeconds));
      throw Object.assign(new Error('too many sign-in attempts'), { statusCode: 429 });
    }
  };
}

/** Checks the credentials (audited either way) and, if they pass, starts a fresh session. */
export async function startSession(ctx: WebContext, request: FastifyRequest, userId: string, password: string): Promise<Principal> {
  const principal = await signInWithPassword({ users: ctx.users, audit: ctx.audit, origin: ctx.origin, passwordParams: ctx.passwordParams, clock: () => new Date(ctx.clock()) }, userId, password);
  await request.session.regenerate();
  request.session.userId = principal.userId;
  request.session.lastSeenAt = ctx.clock();
  return principal;
}

/** Ends the request's session; a signed-in user's sign-out is audited. */
export async function endSession(ctx: WebContext, request: FastifyRequest): Promise<void> {
  const principal = await sessionPrincipal(ctx, request);
  if (principal) await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'sign_out', outcome: 'signed_out', detail: 'surface=web' }]));
  if (request.session.userId !== undefined) await request.session.destroy();
}

/** What the refusal says to the person: never whether the user exists; a lockout by name. */
export function refusalMessage(err: AuthenticationError): string {
  if (err.reason === 'locked') return `This account is locked after too many failed attempts. Try again after ${new Date(err.lockedUntil ?? '').toLocaleTimeString('en-GB', { timeZoneName: 'short' })}, or ask an administrator.`;
  if (err.reason === 'store_not_accepted') return 'Nobody can sign in until an administrator checks the user accounts (pds-trace users accept-store).';
  return 'The user id or password is not right, or the account is disabled.';
}

interface SignInForm {
  userId?: string;
  password?: string;
}

function renderSignIn(ctx: WebContext, reply: FastifyReply, values: { userId?: string; timedOut?: boolean; fieldErrors?: Record<string, string>; formError?: string }, status = 200) {
  const fieldErrors = values.fieldErrors ?? {};
  const errors = [
    ...Object.entries(fieldErrors).map(([field, text]) => ({ text, href: `#${field}` })),
    ...(values.formError ? [{ text: values.formError, href: '#userId' }] : []),
  ];
  return reply.page('sign-in.njk', { title: 'Sign in', misuseWarning: ctx.misuseWarning, userId: values.userId ?? '', timedOut: values.timedOut, fieldErrors, errors }, status);
}

export function registerSignInRoutes(app: FastifyInstance, ctx: WebContext, rateLimit: onRequestHookHandler): void {
  app.get<{ Querystring: { timeout?: string } }>('/sign-in', (request, reply) => renderSignIn(ctx, reply, { timedOut: request.query.timeout === '1' }));

  app.post<{ Body: SignInForm }>('/sign-in', { onRequest: rateLimit }, async (request, reply) => {
    const userId = (request.body?.userId ?? '').trim();
    const password = request.body?.password ?? '';
    const fieldErrors: Record<string, string> = {};
    if (userId === '') fieldErrors.userId = 'Enter your user id';
    if (password === '') fieldErrors.password = 'Enter your password';
    if (Object.keys(fieldErrors).length > 0) return renderSignIn(ctx, reply, { userId, fieldErrors }, 400);
    try {
      await startSession(ctx, request, userId, password);
    } catch (err) {
      if (err instanceof AuthenticationError) return renderSignIn(ctx, reply, { userId, formError: refusalMessage(err) }, 401);
      throw err;
    }
    // '/' sends each person to the first page their role opens.
    return reply.redirect('/', 303);
  });

  app.post('/sign-out', async (request, reply) => {
    await endSession(ctx, request);
    return reply.redirect('/sign-in', 303);
  });
}
