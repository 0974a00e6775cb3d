import { CredentialsError } from './authenticate.js';

/**
 * Asking for a password at the terminal without echoing it (not even as asterisks, which would
 * give away its length). The terminal goes to raw mode for the one line and back afterwards,
 * whatever happens; Ctrl-C gives up.
 */

/** The parts of a TTY read stream the prompt uses (process.stdin in the CLI, a fake in tests). */
export interface SecretInput {
  isTTY?: boolean;
  setRawMode(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  resume(): unknown;
  pause(): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  off(event: 'data', listener: (chunk: string) => void): unknown;
}

export interface PromptOutput {
  write(text: string): unknown;
}

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = new Set(['\u007f', '\b']);

/** A no-echo prompt on `input`, or undefined when `input` is not a terminal (piped, a service). */
export function terminalSecretPrompt(
  input: SecretInput = process.stdin as unknown as SecretInput,
  output: PromptOutput = process.stderr,
): ((question: string) => Promise<string>) | undefined {
  if (!input.isTTY) return undefined;
  return (question) =>
    new Promise<string>((resolve, reject) => {
      let chars: string[] = [];
      const finish = (outcome: () => void) => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
        output.write('\n');
        outcome();
      };
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ENTER.has(ch)) return finish(() => resolve(chars.join('')));
          if (ch === CTRL_C || (ch === CTRL_D && chars.length === 0)) return finish(() => reject(new CredentialsError('password entry cancelled')));
          if (BACKSPACE.has(ch)) chars = chars.slice(0, -1);
          else if (ch >= ' ') chars.push(ch);
        }
      };
      output.write(question);
      input.setEncoding('utf8');
      input.setRawMode(true);
      input.on('data', onData);
      input.resume();
    });
}
