import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BUILT_CLI, ensureBuiltCli } from './built-cli.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for log scans and failures). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Runs `pds-trace <args>` in a child process, as a user would from a shell: the built command,
 * rebuilt first when a source is newer (a TypeScript loader would double every start's CPU).
 */
export function runCli(args: string[], env: Record<string, string>): CliProcess {
  ensureBuiltCli();
  const child = spawn(process.execPath, [BUILT_CLI, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += String(d)));
  child.stderr!.on('data', (d) => (text += String(d)));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => text, exited };
}

/** The URL a started `pds-trace serve` prints once it listens. */
export async function waitForServeUrl(serve: CliProcess): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const url = /pds-trace web service at (\S+)/.exec(serve.output())?.[1];
    if (url) return url;
    if (serve.child.exitCode !== null) throw new Error(`serve exited early:\n${serve.output()}`);
    if (Date.now() > deadline) throw new Error(`serve did not start:\n${serve.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `pds-trace worker` and waits until it says it is running. */
export async function startWorkerProcess(env: Record<string, string>, concurrency = 2): Promise<CliProcess> {
  const worker = runCli(['worker', '--concurrency', String(concurrency), '--shutdown-timeout', '5000'], env);
  const deadline = Date.now() + 30_000;
  while (!worker.output().includes('pds-trace worker running')) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`worker did not start:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}
