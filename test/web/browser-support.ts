import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** What every browser test needs: Debian's chromium, axe-core injected into the page, screenshots. */

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
/** Screenshots of each page, kept as test artefacts (git-ignored). */
export const ARTEFACTS = path.resolve('test/.tmp/web-screenshots');

export function chromiumPath(): string {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: the browser tests need Debian\'s chromium (apt-get install chromium; .ci/run installs it). They are never skipped.');
  }
}

/** Debian's chromium, headless, with the artefacts folder ready for each page's screenshot. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  await mkdir(ARTEFACTS, { recursive: true });
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}

/**
 * What went wrong in the page that no assertion asks about: a script error, or something the
 * Content-Security-Policy refused. The test expects the list empty at its end. `refusedOnPurpose`
 * matches refusals our CSP makes deliberately (bull-board's Google font), which are not problems.
 */
export function pageProblems(page: Page, refusedOnPurpose?: RegExp): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()) && !refusedOnPurpose?.test(message.text())) problems.push(message.text());
  });
  return problems;
}

/** Signs in at the sign-in page as a person would, and waits for the page their role lands on. */
export async function signInInBrowser(page: Page, baseUrl: string, userId: string, password: string, landing = '/batches'): Promise<void> {
  await page.goto(new URL('/sign-in', baseUrl).href);
  await page.getByLabel('User id').fill(userId);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === landing);
}

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core on the page as it stands; injected over the DevTools protocol, so the page's CSP still holds for the page. */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, evaluated in the page: this test is compiled without the DOM's types.
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`) as Promise<AxeViolation[]>;
}

/** Every page must pass axe with no violation at all (the issue asks for none serious or critical; we hold to none). */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true });
  const violations = await axeViolations(page);
  expect(violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `axe on the ${name} page`).toEqual([]);
}

