import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { formatNhsNumberForDisplay } from '../domain/nhs-number.js';

/**
 * The page templates: this app's own (`src/web/views`, copied beside the compiled code by the
 * build) over the NHS.UK frontend's Nunjucks macros, loaded from the installed package so the
 * markup and the compiled CSS/JS the app serves are always the same version.
 */

const require = createRequire(import.meta.url);

/** The folder of nhsuk-frontend's `dist` (its templates are named `nhsuk/components/...`). */
export const NHSUK_DIST = path.join(path.dirname(require.resolve('nhsuk-frontend/package.json')), 'dist');

/**
 * This app's templates and its own static files (one small module script, one style sheet): beside
 * this module (src/web/ under tsx; dist/src/web/ once `npm run build` has copied them), or, for a
 * dist/ compiled with tsc alone in a checkout, in the source tree.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
function besideOrSource(folder: string): string {
  const beside = path.join(HERE, folder);
  return existsSync(beside) ? beside : path.resolve(HERE, '../../../src/web', folder);
}
export const VIEWS_DIR = besideOrSource('views');
export const PUBLIC_DIR = besideOrSource('public');

export const SERVICE_NAME = 'PDS batch trace';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function createViews(): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([VIEWS_DIR, NHSUK_DIST], { noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
  });
  // NHS numbers for people: 3-3-4, in one unbreakable run (MSCA-PDS-06; NHS design system).
  env.addFilter('nhsNumber', (value: string) => {
    const text = escapeHtml(formatNhsNumberForDisplay(String(value ?? '')));
    return new nunjucks.runtime.SafeString(`<span class="app-nhs-number">${text}</span>`);
  });
  env.addFilter('number', (value: number | undefined) => (value === undefined ? '' : value.toLocaleString('en-GB')));
  return env;
}
