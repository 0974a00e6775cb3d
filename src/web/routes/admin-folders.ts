import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/authorise.js';
import { reasonMessage } from '../../domain/reasons.js';
import { SET_ASIDE_REASONS } from '../../intake/watch/failure-note.js';
import { watchFolderPaths } from '../../intake/watch/folder-layout.js';
import { readWatchFolderSettingsFile, WatchFolderSettingsError } from '../../intake/watch/folder-settings.js';
import { watchFolderState } from '../../intake/watch/folder-state.js';
import { changeFolders, type FolderChange, type FolderProblems } from '../admin/folder-changes.js';
import { FALLBACK_CHOICES, fieldErrors, formFromSettings, settingsFromForm, type FolderForm } from '../admin/folder-form.js';
import { sendProblem, type ProblemCode } from '../problems.js';
import type { WebContext } from '../server.js';

/**
 * The watched folders of this deployment (PDS_TRACE_WATCH_FOLDERS) for administrators: `/admin/folders`
 * shows each folder's settings and how its files stand (counts only), with a form to change its
 * settings; `PUT /api/folders` changes them for scripts. Either way the file is checked by the
 * watcher's own check and written whole; a running watcher uses it from the next file it claims.
 */

function reasonText(code: string): string {
  if (code === 'unknown') return 'reason not recorded';
  return (SET_ASIDE_REASONS as Record<string, string>)[code] ?? reasonMessage(code);
}

/** One folder as the page shows it; its form as posted when it is the one being corrected. */
async function folderView(ctx: WebContext, folder: string, index: number, posted?: { form: FolderForm; problems: string[] }) {
  const paths = watchFolderPaths(folder);
  const state = await watchFolderState(paths, new Date(ctx.clock()));
  let form: FolderForm;
  let fileProblem: string | undefined;
  try {
    form = formFromSettings(await readWatchFolderSettingsFile(paths));
  } catch (err) {
    if (!(err instanceof WatchFolderSettingsError)) throw err;
    form = formFromSettings({});
    fileProblem = err.problems.join('; ');
  }
  const prefix = `folder-${index}`;
  const errors = posted ? fieldErrors(prefix, posted.problems) : undefined;
  return {
    path: folder,
    prefix,
    state,
    failedReasons: Object.entries(state.failedByReason).map(([code, count]) => ({ count, text: reasonText(code) })),
    form: posted?.form ?? form,
    fallbackItems: FALLBACK_CHOICES.map((c) => ({ ...c, checked: [(posted?.form ?? form).fallbacks ?? []].flat().includes(c.value) })),
    fileProblem,
    errors: errors?.list,
    fieldErrors: errors?.byField ?? {},
  };
}

async function renderPage(ctx: WebContext, reply: FastifyReply, extra: { changed?: string; posted?: { folder: string; form: FolderForm; problems: string[] } } = {}, status = 200) {
  const folders = await Promise.all(
    ctx.config.watchFolders.map((folder, i) => folderView(ctx, folder, i, extra.posted?.folder === folder ? extra.posted : undefined)),
  );
  const errors = folders.flatMap((f) => f.errors ?? []);
  return reply.page('admin-folders.njk', { title: 'Watched folders', folders, errors, changed: extra.changed }, status);
}

/** `{ folders: [{ path, settings }] }`, or one `{ path, settings }`; undefined when neither. */
function changesIn(body: unknown): FolderChange[] | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const one = (c: unknown): c is FolderChange => Boolean(c) && typeof c === 'object' && 'path' in (c as object) && 'settings' in (c as object);
  const { folders } = body as { folders?: unknown };
  if (Array.isArray(folders) && folders.length > 0 && folders.every(one)) return folders;
  return one(body) && folders === undefined ? [body] : undefined;
}

function invalidMessage(folders: readonly FolderProblems[]): string {
  return `Nothing was changed: ${folders.map((f) => `${f.path}: ${f.problems.join('; ')}`).join(' | ')}`;
}

export function registerAdminFolders(app: FastifyInstance, ctx: WebContext): void {
  app.get<{ Querystring: { changed?: string } }>('/admin/folders', async (request, reply) => {
    const changed = ctx.config.watchFolders.find((f) => f === request.query.changed);
    return renderPage(ctx, reply, { changed });
  });

  app.post<{ Body: FolderForm }>('/admin/folders', async (request, reply) => {
    const principal = request.principal as Principal;
    const form = request.body ?? {};
    const result = await changeFolders(ctx, principal, 'POST /admin/folders', [{ path: form.folder ?? '', settings: settingsFromForm(form) }]);
    if (result.kind === 'unknown_folder') return sendProblem(request, reply, 404, 'unknown_folder', 'That is not one of the folders this service watches (PDS_TRACE_WATCH_FOLDERS).');
    if (result.kind === 'invalid') return renderPage(ctx, reply, { posted: { folder: result.folders[0]!.path, form, problems: result.folders[0]!.problems } }, 400);
    return reply.redirect(`/admin/folders?changed=${encodeURIComponent(result.folders[0]!.path)}`, 303);
  });

  app.put('/api/folders', async (request: FastifyRequest, reply) => {
    const changes = changesIn(request.body);
    if (!changes) return sendProblem(request, reply, 400, 'bad_request', 'Send {"folders": [{"path", "settings"}]} (or one {"path", "settings"}): path one of PDS_TRACE_WATCH_FOLDERS, settings the whole of its pds-trace.json.');
    const result = await changeFolders(ctx, request.principal as Principal, 'PUT /api/folders', changes);
    if (result.kind === 'unknown_folder') return sendProblem(request, reply, 404, 'unknown_folder', 'Only the folders this service watches (PDS_TRACE_WATCH_FOLDERS) can be changed; nothing was changed.');
    if (result.kind === 'invalid') return reply.code(422).send({ code: 'invalid_settings' satisfies ProblemCode, message: invalidMessage(result.folders), folders: result.folders });
    return { folders: result.folders };
  });
}
