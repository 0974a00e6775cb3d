import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSimulatorCommand } from '../../src/cli/simulator-command.js';
import { nhsSampleRequest, responseCodeOf } from '../support/simulator.js';

interface Run {
  output: () => string;
  signals: EventEmitter;
  done: Promise<unknown>;
}

function run(args: string[]): Run {
  let output = '';
  const signals = new EventEmitter();
  const program = new Command().exitOverride();
  registerSimulatorCommand(program, {
    stdout: { write: (text: string) => (output += text) },
    signals: { once: (signal, listener) => signals.once(signal, listener) },
  });
  const done = program.parseAsync(['node', 'pds-trace', 'simulator', ...args]);
  return { output: () => output, signals, done };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** KEY=value lines from the start-up text. */
function settings(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^(SMSP_[A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('pds-trace simulator', () => {
  let folder: string | undefined;
  afterEach(async () => {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
    folder = undefined;
  });

  it('prints a loud notice and the settings that point a client at it, serves over them, and stops on SIGINT', async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'pds-trace-sim-cmd-'));
    const certDir = path.join(folder, 'certs');
    const simulator = run(['--port', '0', '--size', '500', '--seed', 'cmd', '--cert-dir', certDir, '--log-level', 'error']);
    await until(() => simulator.output().includes('Press Ctrl+C'));
    const text = simulator.output();
    expect(text).toContain('SIMULATOR');
    expect(text).toContain('SYNTHETIC');
    const env = settings(text);
    expect(Object.keys(env).sort()).toEqual(['SMSP_ASID', 'SMSP_TLS_CA', 'SMSP_TLS_CERT', 'SMSP_TLS_KEY', 'SMSP_URL']);
    expect(env.SMSP_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/smsp\/pds$/);
    expect(env.SMSP_TLS_CERT).toBe(path.join(certDir, 'client.pem'));

    const [cert, key, ca] = await Promise.all([env.SMSP_TLS_CERT!, env.SMSP_TLS_KEY!, env.SMSP_TLS_CA!].map((file) => readFile(file, 'utf8')));
    const body = nhsSampleRequest();
    const answer = await new Promise<string>((resolve, reject) => {
      const req = https.request(env.SMSP_URL!, { method: 'POST', cert, key, ca, headers: { 'Content-Type': 'text/xml' } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(responseCodeOf(answer)).toMatch(/^(SMSP-0000|DEMOG-\d{4})$/);

    simulator.signals.emit('SIGINT');
    await simulator.done;
    expect(simulator.output()).toContain('SMSP simulator stopped.');
  });

  it('rejects a malformed fault spec with the entry at fault', async () => {
    const simulator = run(['--faults', 'busy=2']);
    await expect(simulator.done).rejects.toThrow(/busy=2.*from 0 to 1/);
  });

  it('refuses --population together with --seed', async () => {
    const simulator = run(['--population', 'people.jsonl', '--seed', 'x']);
    await expect(simulator.done).rejects.toThrow(/cannot be used with option/);
  });
});
