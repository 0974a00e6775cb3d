import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../../audit/event.js';
import { AUDIT_EVENT_KINDS } from '../../audit/event.js';
import { streamAuditCsv } from '../../audit/csv-export.js';
import { AuditStoreCorruptError } from '../../audit/file-store.js';
import type { VerifyResult } from '../../audit/hash-chain.js';
import { checkTrail, verifiedOutcome } from '../../audit/trail-check.js';
import { prepareTrailSearch, searchedEvent, type TrailQuery, type TrailSearch } from '../../audit/trail-search.js';
import { hasPermission, type Principal } from '../../auth/authorise.js';
import { auditAs } from '../access-hook.js';
import { parseAuditQuery, type AuditSearchInput } from '../audit-query.js';
import { attachment } from '../batch-files.js';
import { sendProblem } from '../problems.js';
import type { WebContext } from '../server.js';

/**
 * The auditor's tools on the web, the CLI's own (`audit search`, `audit verify`: trail-search.ts,
 * trail-check.ts): the `/audit` page, and `GET /api/audit/events[.csv]`, `POST /api/audit/search`,
 * `POST /api/audit/verify` for scripts. Every search and check is itself recorded. An NHS number is
 * only ever searched for from a request body (a form or JSON), never from a URL, where proxies and
 * browser histories would keep it.
 */

function eventJson(event: AuditEvent, search: TrailSearch) {
  return search.matchedUnder ? { ...event, matchedUnder: search.matchedUnder(event) } : event;
}

function verifyJson(result: VerifyResult) {
  return result.ok ? { intact: true, events: result.count, head: result.head, unanchored: result.unanchored } : { intact: false, events: result.count, problem: result.problem };
}

async function search(ctx: WebContext, principal: Principal, query: TrailQuery) {
  const prepared = await prepareTrailSearch(ctx.trail, query);
  const events = await ctx.trail.search(prepared.filter);
  await ctx.audit.append(auditAs(ctx, principal, [searchedEvent(query, prepared, events.length, 'listed', 'web')]));
  return { events, prepared };
}

/** The matching events as a CSV download, streamed (no cap); the search is recorded once it is sent. */
async function sendCsv(ctx: WebContext, principal: Principal, reply: FastifyReply, query: TrailQuery): Promise<FastifyReply> {
  const prepared = await prepareTrailSearch(ctx.trail, query);
  const body = new PassThrough();
  void streamAuditCsv(body, ctx.trail.events(prepared.filter), prepared.matchedUnder && { name: 'matched_under', value: prepared.matchedUnder })
    .then((count) => ctx.audit.append(auditAs(ctx, principal, [searchedEvent(query, prepared, count, 'exported', 'web')])))
    .catch((err: Error) => body.destroy(err));
  return reply.header('Cache-Control', 'no-store').header('Content-Disposition', attachment('audit-events.csv')).type('text/csv; charset=utf-8').send(body);
}

/** Checks the trail as found, then records the check (a damaged store may refuse: said so). */
async function verify(ctx: WebContext, principal: Principal): Promise<{ result: VerifyResult; recorded: boolean }> {
  const result = await checkTrail(ctx.trail, ctx.config.dataDir);
  try {
    await ctx.audit.append(auditAs(ctx, principal, [{ kind: 'audit_verified', ...verifiedOutcome(result) }]));
    return { result, recorded: true };
  } catch (err) {
    if (result.ok || !(err instanceof AuditStoreCorruptError)) throw err;
    return { result, recorded: false };
  }
}

function badQuery(request: FastifyRequest, reply: FastifyReply, problems: Record<string, string>): FastifyReply {
  return sendProblem(request, reply, 400, 'bad_request', Object.entries(problems).map(([field, text]) => `${field}: ${text}`).join('; '));
}

/** A URL's query, refused if it names a patient: that goes in a POST body. */
function urlQuery(request: FastifyRequest<{ Querystring: AuditSearchInput }>, reply: FastifyReply, capped: boolean): TrailQuery | undefined {
  if (request.query.nhsNumber !== undefined) {
    badQuery(request, reply, { nhsNumber: 'never in a URL: send it in the body of POST /api/audit/search' });
    return undefined;
  }
  const parsed = parseAuditQuery(request.query, { capped });
  if (!parsed.ok) {
    badQuery(request, reply, parsed.problems);
    return undefined;
  }
  return parsed.query;
}

interface AuditForm extends AuditSearchInput {
  action?: string;
}

const KINDS = AUDIT_EVENT_KINDS.map((kind) => ({ value: kind, text: kind.replace(/_/g, ' ') }));

export function registerAuditRoutes(app: FastifyInstance, ctx: WebContext): void {
  const render = (reply: FastifyReply, context: Record<string, unknown>, status = 200) => {
    const principal = reply.request.principal as Principal;
    return reply.page('audit.njk', { title: 'Audit trail', confidential: true, kinds: KINDS, maySearch: hasPermission(principal, 'audit.read'), mayVerify: hasPermission(principal, 'audit.verify'), form: {}, ...context }, status);
  };

  app.get('/audit', async (_request, reply) => render(reply, {}));

  app.post<{ Body: AuditForm }>('/audit', async (request, reply) => {
    const principal = request.principal as Principal;
    const form = request.body ?? {};
    if (form.action === 'verify') {
      if (!hasPermission(principal, 'audit.verify')) return sendProblem(request, reply, 403, 'forbidden', 'Your role does not allow checking the audit trail.');
      const { result, recorded } = await verify(ctx, principal);
      return render(reply, { verified: verifyJson(result), recorded });
    }
    if (!hasPermission(principal, 'audit.read')) return sendProblem(request, reply, 403, 'forbidden', 'Your role does not allow searching the audit trail.');
    const parsed = parseAuditQuery(form, { capped: true });
    if (!parsed.ok) {
      const errors = Object.entries(parsed.problems).map(([field, text]) => ({ text, href: `#${field}` }));
      return render(reply, { form, errors, fieldErrors: parsed.problems }, 400);
    }
    const { events, prepared } = await search(ctx, principal, parsed.query);
    const links = prepared.numbers?.links ?? [];
    return render(reply, { form, searched: true, events: events.map((e) => eventJson(e, prepared)), links, limit: parsed.query.limit });
  });

  app.get<{ Querystring: AuditSearchInput }>('/api/audit/events', async (request, reply) => {
    const query = urlQuery(request, reply, true);
    if (!query) return reply;
    const { events, prepared } = await search(ctx, request.principal as Principal, query);
    return { events: events.map((e) => eventJson(e, prepared)) };
  });

  app.get<{ Querystring: AuditSearchInput }>('/api/audit/events.csv', async (request, reply) => {
    const query = urlQuery(request, reply, false);
    if (!query) return reply;
    return sendCsv(ctx, request.principal as Principal, reply, query);
  });

  app.post<{ Body: AuditSearchInput & { format?: unknown } }>('/api/audit/search', async (request, reply) => {
    const body = request.body ?? {};
    const csv = body.format === 'csv';
    const parsed = parseAuditQuery(body, { capped: !csv });
    if (!parsed.ok) return badQuery(request, reply, parsed.problems);
    if (csv) return sendCsv(ctx, request.principal as Principal, reply, parsed.query);
    const { events, prepared } = await search(ctx, request.principal as Principal, parsed.query);
    return { events: events.map((e) => eventJson(e, prepared)), links: prepared.numbers?.links ?? [] };
  });

  app.post('/api/audit/verify', async (request) => {
    const { result, recorded } = await verify(ctx, request.principal as Principal);
    return { ...verifyJson(result), recorded };
  });
}
