import type { FastifyReply, FastifyRequest } from 'fastify';
import { roleField, type NewAuditEvent } from '../audit/event.js';
import type { AuditStore } from '../audit/store.js';
import type { Principal } from '../auth/authorise.js';
import { AuthenticationError, refuse, signInWithServiceToken } from '../auth/authenticate.js';
import { accessRule, rolesAllow, UnknownAccessRuleError, type AccessRule } from '../auth/roles.js';
import { hashServiceToken } from '../auth/service-token.js';
import type { UserStore } from '../auth/users.js';
import { routeRule, ruleForUnroutedUrl, type RouteRule } from './route-rules.js';
import { sendProblem } from './problems.js';

declare module 'fastify' {
  interface Session {
    /** The signed-in user; roles are read afresh from the user store on every request. */
    userId?: string;
    /** Milliseconds (the app's clock) of the session's last request: the idle timeout counts from it. */
    lastSeenAt?: number;
  }
  interface FastifyContextConfig {
    /**
     * The route is the page's own background traffic (live progress), not the person using the
     * service: it does not count as activity for the idle timeout, so a page left open still times out.
     */
    passiveSession?: boolean;
  }
  interface FastifyRequest {
    /** Who is acting, once the access hook let the request through a rule (absent on open routes). */
    principal?: Principal;
    /** Set when the request's session had just ended for being idle too long. */
    sessionExpired?: boolean;
    /** The principal signed in with `Authorization: Bearer <service token>`, not a session cookie. */
    viaBearerToken?: boolean;
  }
}

export interface AccessHookDeps {
  users: UserStore;
  audit: Pick<AuditStore, 'append'>;
  origin: string;
  idleTimeoutMs: number;
  clock: () => number;
}

/** Stamps events as done by `principal`, the way the CLI's session does. */
export function auditAs(deps: Pick<AccessHookDeps, 'origin' | 'clock'>, principal: Pick<Principal, 'userId' | 'roles'>, events: ReadonlyArray<Omit<NewAuditEvent, 'time' | 'user' | 'role' | 'origin'>>): NewAuditEvent[] {
  const time = new Date(deps.clock()).toISOString();
  return events.map((e) => ({ ...e, time, user: principal.userId, role: roleField(principal.roles), origin: deps.origin }));
}

/**
 * The signed-in principal of the request's session, or undefined: no session, a session idle
 * longer than the timeout (ended here, and audited), or a user since disabled or removed.
 */
export async function sessionPrincipal(deps: AccessHookDeps, request: FastifyRequest, activity = true): Promise<Principal | undefined> {
  const { session } = request;
  if (!session?.userId) return undefined;
  const now = deps.clock();
  const user = await deps.users.get(session.userId);
  if (session.lastSeenAt === undefined || now - session.lastSeenAt > deps.idleTimeoutMs) {
    if (user) await deps.audit.append(auditAs(deps, { userId: user.id, roles: user.roles }, [{ kind: 'sign_out', outcome: 'idle_timeout', detail: 'surface=web' }]));
    await session.destroy();
    request.sessionExpired = true;
    return undefined;
  }
  if (!user || user.disabled) {
    await session.destroy();
    return undefined;
  }
  if (activity) session.lastSeenAt = now;
  return { userId: user.id, roles: [...user.roles], kind: user.kind };
}

/** The token of an `Authorization: Bearer <token>` header, if the request has one. */
function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/**
 * A service account calling the API with its token (the one `PDS_TRACE_SERVICE_TOKEN` gives the
 * CLI), signed in for this one request exactly as the CLI signs it in: checked, and audited as a
 * `sign_in` or `sign_in_failed`. The token names its account: the one whose stored digest it has
 * (a digest of 256 random bits, so finding it by digest reveals nothing); the check itself is the
 * CLI's constant-time one. Undefined when refused.
 */
async function bearerPrincipal(deps: AccessHookDeps, token: string): Promise<Principal | undefined> {
  const auth = { users: deps.users, audit: deps.audit, origin: deps.origin, clock: () => new Date(deps.clock()) };
  const digest = hashServiceToken(token);
  const account = (await deps.users.list()).find((user) => user.kind === 'service' && user.tokenHash === digest);
  try {
    if (!account) return await refuse(auth, '(unknown)', undefined, 'bad_token', 'service_token');
    return await signInWithServiceToken(auth, account.id, token);
  } catch (err) {
    if (err instanceof AuthenticationError) return undefined;
    throw err;
  }
}

/**
 * THE access check of the web service, run on every request before its body is read: open routes
 * pass; any other route must have its rule in ACCESS_RULES (none: refused, fail closed), a signed-in
 * user (none: sign-in page or 401), and a role the rule allows (else 403, audited as the CLI audits
 * a refused command). Scoping to one's own batches is then the handler's (requireOwnBatch).
 */
export function accessHook(deps: AccessHookDeps) {
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const routePath = request.routeOptions.url;
    // No route matched: a path the table names (a route not built yet) is still refused as the
    // table says, so nobody learns from a 404 what they may not use; then the not-found handler.
    const rule: RouteRule | undefined = routePath === undefined ? ruleForUnroutedUrl(request.method, request.url) : routeRule(request.method, routePath);
    if (!rule || rule.open) return;
    let ruleEntry: AccessRule;
    try {
      // Looked up before the session, so an unlisted route is refused to everyone alike.
      ruleEntry = accessRule(rule.surface, rule.name);
    } catch (err) {
      if (!(err instanceof UnknownAccessRuleError)) throw err;
      request.log.error({ route: `${rule.surface} ${rule.name}` }, 'route without an access rule refused');
      return sendProblem(request, reply, 403, 'no_access_rule', 'This has no access rule, so nobody may use it.');
    }
    const token = bearerToken(request);
    // Tokens are for scripts: the API only; a page is for a person with a session.
    if (token !== undefined && rule.surface === 'api') request.viaBearerToken = true;
    const principal = request.viaBearerToken ? await bearerPrincipal(deps, token!) : await sessionPrincipal(deps, request, !request.routeOptions.config?.passiveSession);
    if (!principal) {
      if (request.viaBearerToken) return sendProblem(request, reply, 401, 'not_signed_in', 'The bearer token was not accepted: check it is the service account\'s current token and that the account is enabled.');
      const message = request.sessionExpired ? 'You were signed out because you had not used the service for a while. Sign in again.' : 'Sign in to use this service.';
      return sendProblem(request, reply, 401, 'not_signed_in', message);
    }
    if (!rolesAllow(principal.roles, ruleEntry)) {
      await deps.audit.append(auditAs(deps, principal, [{ kind: 'access_denied', outcome: 'refused', detail: `${rule.surface}=${rule.name}` }]));
      return sendProblem(request, reply, 403, 'forbidden', 'Your role does not allow this.');
    }
    request.principal = principal;
  };
}
