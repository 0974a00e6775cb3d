import { execFileSync, spawn, type StdioOptions } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliProcess } from './worker-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUILT_CLI = path.join(REPO, 'dist/src/cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The command as installed (`npm ci` builds it): dist/src/cli.js, rebuilt first when a source is
 * newer, so these tests never pass or fail on a stale build.
 */
let checked = false;

export function ensureBuiltCli(): void {
  // Once a test process has checked, its sources cannot change under it.
  if (checked) return;
  checked = true;
  const built = (() => {
    try {
      return statSync(BUILT_CLI).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built >= Math.max(newestSource(path.join(REPO, 'src')), newestSource(path.join(REPO, 'jobs')))) return;
  // The package's own build (compile, then the web views and assets beside the code), as `npm ci` runs it.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
}

export interface BuiltCliOptions {
  /** stdin, stdout, stderr; stdout and stderr are collected when piped. */
  stdio?: StdioOptions;
}

/** Runs the built `pds-trace <args>` in a child process, as a user would from a shell. */
export function runBuiltCli(args: string[], env: Record<string, string>, options: BuiltCliOptions = {}): CliProcess & { stdout(): string; stderr(): string } {
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let both = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
    both += String(d);
  });
  child.stderr?.on('data', (d) => {
    err += String(d);
    both += String(d);
  });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => both, stdout: () => out, stderr: () => err, exited };
}

/** What a stack trace or an unhandled error dump looks like in a command's output. */
export const STACK_TRACE = /^\s+at |node:internal|^\w*Error: |Unhandled error event|\n\s+at /m;

/** Waits until `text()` matches, or fails with what was seen. */
export async function waitFor(text: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(text());
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
