import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import type { AuditStore } from '../audit/store.js';
import type { ScryptParams } from '../auth/password.js';
import type { UserStore } from '../auth/users.js';
import type { Config } from '../config.js';
import type { Principal } from '../auth/authorise.js';
import { accessRule, rolesAllow } from '../auth/roles.js';
import { loggerFor, type Logger } from '../log.js';
import { accessHook, sessionPrincipal, type AccessHookDeps } from './access-hook.js';
import { logRequest, requestLogLine } from './request-log.js';
import { isApiRequest, sendProblem } from './problems.js';
import { registerAdminFolders } from './routes/admin-folders.js';
import { registerAdminSchedules } from './routes/admin-schedules.js';
import { registerApiRoutes } from './routes/api.js';
import { registerAccountPage } from './routes/account.js';
import { registerAdminUsersPage } from './routes/admin-users.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerBatchControl } from './routes/batch-control.js';
import { registerBatchEvents } from './routes/batch-events.js';
import type { BatchViewDeps } from './batch-view.js';
import { openLiveProgress } from './live-source.js';
import type { LiveProgress } from '../pipeline/live-progress.js';
import { registerBatchPages } from './routes/batch-pages.js';
import { registerResearchRoutes } from './routes/research.js';
import { registerQueueDashboard } from './dashboard.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerSignInRoutes, signInRateLimit } from './routes/sign-in.js';
import { registerUploadRoutes } from './routes/upload.js';
import { registerUsersApi } from './routes/users-api.js';
import type { TracingChoice } from './upload/tracing.js';
import { FileSessionStore, sessionKey } from './session-store.js';
import { createViews, NHSUK_DIST, PUBLIC_DIR, SERVICE_NAME } from './views.js';

/**
 * The web service of pds-trace (`pds-trace serve`): the same users, roles, permission matrix and
 * audit trail as the CLI, behind pages built with the NHS.UK frontend and a JSON API for scripts.
 *
 * Order matters and is the point of this file: cookies → session → the ONE access hook (every
 * route is checked against ACCESS_RULES before its body is read) → body parsing → CSRF on every
 * state-changing request → the handler. The routes are grouped by journey in `routes/`; the upload
 * journey (src/intake, the one submission path) plugs in there as one more `register…` call.
 */

export interface WebAppOptions {
  config: Readonly<Config>;
  users: UserStore;
  audit: AuditStore;
  /** The Computer Misuse Act warning shown at sign-in (the CLI's words, passed down). */
  misuseWarning: string;
  /** Honour X-Forwarded-For/-Proto/-Host (only behind a proxy you run). Default false. */
  trustProxy?: boolean;
  /** The app's clock in milliseconds, for the idle timeout; tests move it. */
  clock?: () => number;
  /** scrypt cost of the unknown-user stand-in hash; tests lower it. */
  passwordParams?: ScryptParams;
  /** What traces uploaded files (src/web/upload/tracing.ts); absent: uploads say they cannot be traced. */
  tracing?: TracingChoice;
  /** Live row counts from workers; default: read from REDIS_URL when it is set. */
  live?: LiveProgress;
  /** Where request lines and failures are logged; default: the configuration's (LOG_LEVEL, PDS_TRACE_LOG_FORMAT). */
  logger?: Logger;
}

/** What every route handler needs beyond the request. */
export interface WebContext extends AccessHookDeps {
  config: Readonly<Config>;
  misuseWarning: string;
  passwordParams?: ScryptParams;
  /** How batch pages and the API read a batch's progress. */
  batches: BatchViewDeps;
  /** The audit trail to search and verify (auditors' routes); `audit` is for recording. */
  trail: AuditStore;
}

/** Context a page template is rendered with, on top of what `reply.page` adds. */
export type PageContext = Record<string, unknown> & { title: string };

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page in the layout, with the CSP nonce, a CSRF token and the signed-in user. */
    page(template: string, context: PageContext, status?: number): FastifyReply;
  }
}

/** The header's links: the pages the principal's roles open, in this order. */
const NAVIGATION = [
  { href: '/batches', text: 'Batches' },
  { href: '/upload', text: 'Upload' },
  { href: '/audit', text: 'Audit trail' },
  { href: '/queues', text: 'Queues' },
  { href: '/admin/folders', text: 'Folders' },
  { href: '/admin/schedules', text: 'Schedules' },
  { href: '/admin/users', text: 'Users' },
] as const;

function navigationFor(principal: Principal | undefined): Array<{ href: string; text: string }> {
  if (!principal) return [];
  return NAVIGATION.filter((item) => rolesAllow(principal.roles, accessRule('page', item.href))).map((item) => ({ ...item }));
}

/** Methods that change state: each needs the session's CSRF token (or is the sign-in that makes one). */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A JSON sign-in creates the session, so it cannot carry its token yet; it must be JSON (no cross-site form can send that). */
const CSRF_EXEMPT = new Set(['POST /api/session']);

async function httpsOptions(config: Readonly<Config>): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!config.web.tls) return undefined;
  return { cert: await readFile(config.web.tls.certPath), key: await readFile(config.web.tls.keyPath) };
}

export async function buildWebApp(options: WebAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const https = await httpsOptions(config);
  // forceCloseConnections: a page's progress stream is open as long as the page is; closing the
  // server ends it (the browser reconnects to the next one) rather than waiting on it.
  const app = Fastify({ https: https ?? null, trustProxy: options.trustProxy ?? false, logger: false, forceCloseConnections: true }) as unknown as FastifyInstance;
  const logger = options.logger ?? loggerFor(config);
  const liveSource = options.live ? undefined : openLiveProgress(config);
  app.addHook('onClose', async () => liveSource?.close());
  const ctx: WebContext = {
    config,
    users: options.users,
    audit: options.audit,
    origin: config.smsp.auditIdentity.uri,
    idleTimeoutMs: config.web.idleTimeoutMs,
    clock: options.clock ?? Date.now,
    misuseWarning: options.misuseWarning,
    passwordParams: options.passwordParams,
    trail: options.audit,
    batches: { dataDir: config.dataDir, live: options.live ?? liveSource?.live, lowMatch: config.web.lowMatch },
  };
  const views = createViews();

  await app.register(fastifyHelmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // No inline script: the template's one-line class switch carries the per-response nonce.
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'https://assets.nhs.uk'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        // Behind plain HTTP on 127.0.0.1 an upgrade would break every asset.
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    // HSTS only where the app itself speaks HTTPS.
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: await sessionKey(config.dataDir),
    cookieName: 'pds_trace_session',
    store: new FileSessionStore(config.dataDir),
    saveUninitialized: false,
    rolling: true,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      // Behind a proxy the scheme is the proxy's (X-Forwarded-Proto): 'auto' follows it.
      secure: https ? true : options.trustProxy ? 'auto' : false,
      // The server ends an idle session itself (access-hook.ts: audited, and the person told why);
      // the cookie outlives it so the browser brings it back to be told, rather than vanishing first.
      maxAge: 2 * config.web.idleTimeoutMs,
    },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
  await app.register(fastifyRateLimit, { global: false });

  app.decorateReply('page', function page(this: FastifyReply, template: string, context: PageContext, status = 200) {
    const nonce = (this.cspNonce as { script?: string } | null)?.script;
    const html = views.render(template, {
      ...context,
      serviceName: SERVICE_NAME,
      user: this.request.principal,
      navigation: navigationFor(this.request.principal),
      cspNonce: nonce,
      csrfToken: this.generateCsrf(),
    });
    return this.code(status).type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(html);
  });

  app.addHook('onResponse', logRequest(logger));
  // THE access check: one hook, every route, before the body is read.
  app.addHook('onRequest', accessHook(ctx));
  await app.register(fastifyFormbody);
  app.addHook('preHandler', (request, reply, done) => {
    const key = `${request.method} ${request.routeOptions.url}`;
    // A bearer token is sent by a script, never by a browser on its own, so no forged request carries it.
    if (!STATE_CHANGING.has(request.method) || CSRF_EXEMPT.has(key) || request.viaBearerToken) return done();
    app.csrfProtection(request, reply, done);
  });

  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      return sendProblem(request, reply, 403, 'csrf_invalid', 'The form had expired or did not come from this service. Go back, reload the page and try again.');
    }
    const status = err.statusCode ?? 500;
    if (status === 429) return sendProblem(request, reply, 429, 'too_many_attempts', 'Too many attempts from this address. Wait a minute and try again.');
    if (status >= 400 && status < 500) return sendProblem(request, reply, status, 'bad_request', err.message);
    // The stack stays out of the answer; the log's redaction masks anything patient-shaped in the message.
    logger.error('request failed', { ...requestLogLine(request, reply), status: 500, error: err });
    return sendProblem(request, reply, 500, 'server_error', 'Something went wrong on our side. Try again later; if it keeps happening, tell the service administrator.');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, 'not_found', isApiRequest(request) ? 'No such route.' : 'Check the address, or go to your batches.'));

  // The NHS.UK frontend as installed: images under /assets (where its CSS looks), CSS and JS under /nhsuk.
  await app.register(fastifyStatic, { root: path.join(NHSUK_DIST, 'nhsuk', 'assets'), prefix: '/assets/' });
  await app.register(fastifyStatic, {
    root: path.join(NHSUK_DIST, 'nhsuk'),
    prefix: '/nhsuk/',
    decorateReply: false,
    allowedPath: (pathName) => /^\/nhsuk-frontend\.min\.(css|js)(\.map)?$/.test(pathName),
  });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/app/', decorateReply: false });

  // Each person lands on the first page their role opens: an auditor has no batches to see.
  app.get('/', async (request, reply) => reply.redirect(navigationFor(await sessionPrincipal(ctx, request))[0]?.href ?? '/sign-in', 303));
  const signInLimit = signInRateLimit(app, ctx);
  registerSignInRoutes(app, ctx, signInLimit);
  registerBatchPages(app, ctx);
  registerApiRoutes(app, ctx, signInLimit);
  await registerUploadRoutes(app, ctx, options.tracing);
  await registerQueueDashboard(app, ctx);
  registerQueueRoutes(app, ctx);
  registerBatchEvents(app, ctx);
  registerBatchControl(app, ctx, options.tracing);
  registerResearchRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerAdminFolders(app, ctx);
  registerAdminSchedules(app, ctx);
  registerUsersApi(app, ctx);
  registerAdminUsersPage(app, ctx);
  registerAccountPage(app, ctx);
  return app;
}
