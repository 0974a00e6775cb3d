import { ACCESS_RULES, type Surface } from '../auth/roles.js';
import { DASHBOARD_PREFIX } from './dashboard-access.js';

/**
 * How a registered route is named in the permission matrix (`ACCESS_RULES`, src/auth/roles.ts):
 * `GET /api/batches/:id` for the JSON API, `/batches/:id` for a page. A route that is neither in
 * the table nor one of the few open routes below is refused by the access hook, so a route added
 * without a rule fails closed (and its test says which rule to add).
 */

/**
 * Open to anyone, signed in or not: signing in and out (the table says signing in has no rule,
 * since nobody holds a permission before it) and the design system's public assets.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['GET /', 'GET /sign-in', 'POST /sign-in', 'POST /sign-out', 'POST /api/session', 'DELETE /api/session']);

/** Static files: the NHS.UK frontend's compiled CSS, JS and images, and this app's own script. */
export const STATIC_PREFIXES = ['/assets/', '/nhsuk/', '/app/'] as const;

/**
 * Apps mounted under a prefix, whose routes are theirs to name (the bull-board queue dashboard,
 * dashboard.ts): every route under the prefix, whatever its method, is the prefix's page rule.
 */
const MOUNTED_PAGES = [DASHBOARD_PREFIX] as const;

export type RouteRule = { open: true } | { open: false; surface: Extract<Surface, 'api' | 'page'>; name: string };

/** The rule name of a route, from its method and its path pattern (`/batches/:id`, not the URL). */
export function routeRule(method: string, routePath: string): RouteRule {
  // Fastify answers HEAD with the GET route: the same rule.
  const verb = method === 'HEAD' ? 'GET' : method;
  const key = `${verb} ${routePath}`;
  if (OPEN_ROUTES.has(key) || (verb === 'GET' && STATIC_PREFIXES.some((prefix) => routePath.startsWith(prefix)))) return { open: true };
  const mount = MOUNTED_PAGES.find((prefix) => routePath === prefix || routePath.startsWith(`${prefix}/`));
  if (mount) return { open: false, surface: 'page', name: mount };
  if (routePath === '/api' || routePath.startsWith('/api/')) return { open: false, surface: 'api', name: key };
  // Pages are named by path alone: a form posting to its own page is the page's rule.
  return { open: false, surface: 'page', name: routePath };
}

/**
 * The rule of a URL no route answers, when the table names its path (a route not built yet): that
 * route's rule, or, for a method the table has no rule for on that path, a name with no rule (so
 * refused). Undefined for a path the table does not know: simply not found.
 */
export function ruleForUnroutedUrl(method: string, url: string): RouteRule | undefined {
  const pathname = url.split('?')[0] ?? url;
  const candidates = ACCESS_RULES.filter((rule) => rule.surface === 'api' || rule.surface === 'page')
    .map((rule) => routeRule(method, rule.surface === 'api' ? rule.name.slice(rule.name.indexOf(' ') + 1) : rule.name))
    .filter((named): named is Extract<RouteRule, { open: false }> => !named.open && patternMatches(named.name.slice(named.name.indexOf('/')), pathname));
  return candidates.find((named) => ACCESS_RULES.some((rule) => rule.surface === named.surface && rule.name === named.name)) ?? candidates[0];
}

/** `/api/batches/:id` against `/api/batches/b2026…`: each `:name` one non-empty segment. */
function patternMatches(pattern: string, pathname: string): boolean {
  const want = pattern.split('/');
  const got = pathname.split('/');
  return want.length === got.length && want.every((segment, i) => (segment.startsWith(':') ? got[i] !== '' : segment === got[i]));
}
