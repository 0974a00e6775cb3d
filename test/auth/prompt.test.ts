import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CredentialsError } from '../../src/auth/authenticate.js';
import { terminalSecretPrompt, type SecretInput } from '../../src/auth/prompt.js';

/** A terminal the test types into, remembering its raw-mode switches. */
class FakeTerminal extends EventEmitter implements SecretInput {
  isTTY = true;
  rawModes: boolean[] = [];
  paused = true;
  setRawMode(mode: boolean) {
    this.rawModes.push(mode);
  }
  setEncoding() {}
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
  type(text: string) {
    this.emit('data', text);
  }
}

function setup() {
  const input = new FakeTerminal();
  let shown = '';
  const prompt = terminalSecretPrompt(input, { write: (t: string) => (shown += t) });
  return { input, prompt: prompt!, shown: () => shown };
}

describe('terminal password prompt', () => {
  it('reads a line without echoing any of it, and restores the terminal', async () => {
    const { input, prompt, shown } = setup();
    const answer = prompt('Password for ada: ');
    input.type('s3cret pass');
    input.type('phrase\r');
    expect(await answer).toBe('s3cret passphrase');
    expect(shown()).toBe('Password for ada: \n');
    expect(input.rawModes).toEqual([true, false]);
    expect(input.paused).toBe(true);
    expect(input.listenerCount('data')).toBe(0);
  });

  it('handles backspace, including over multi-unit characters', async () => {
    const { input, prompt } = setup();
    const answer = prompt('? ');
    input.type('ab🔒c\u007f\u007fd\n');
    expect(await answer).toBe('abd');
  });

  it('gives up on Ctrl-C, restoring the terminal', async () => {
    const { input, prompt } = setup();
    const answer = prompt('? ');
    input.type('abc\u0003');
    await expect(answer).rejects.toThrow(CredentialsError);
    expect(input.rawModes).toEqual([true, false]);
  });

  it('offers no prompt when the input is not a terminal', () => {
    const input = new FakeTerminal();
    input.isTTY = false;
    expect(terminalSecretPrompt(input, { write: () => 0 })).toBeUndefined();
  });
});
