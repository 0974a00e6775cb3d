import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED } from '../src/log.js';

function capture(options: { format?: 'json' | 'text'; isTTY?: boolean } = {}) {
  const lines: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
    { isTTY: options.isTTY },
  );
  return { logger: createLogger({ level: 'debug', stream, format: options.format }), lines };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('redacting logger', () => {
  it('drops fields named like demographics, at any depth and in any case', async () => {
    const { logger, lines } = capture();
    logger.info('row traced', {
      batchId: 'b1',
      rowNumber: 4,
      familyName: "O'Brien",
      nested: { Date_Of_Birth: '1970-01-01', POSTCODE: 'LS1 4AP', address: ['1 High St'], nhs_number: '9434765919' },
    });
    await flush();
    const line = lines.join('');
    for (const secret of ["O'Brien", '1970-01-01', 'LS1 4AP', '1 High St', '9434765919']) expect(line).not.toContain(secret);
    expect(line).toContain('"rowNumber":4');
    expect(line).toContain('"batchId":"b1"');
    expect(line).toContain(REDACTED);
  });

  it('masks NHS numbers, dates of birth and postcodes inside free text and error messages', async () => {
    const { logger, lines } = capture();
    logger.warn('lookup for 943 476 5919 born 01/02/1970 at SW1A 1AA failed');
    logger.error(new Error('no match for 9434765919 dob 19700201 postcode sw1a1aa'));
    await flush();
    const text = lines.join('');
    for (const secret of ['943 476 5919', '9434765919', '01/02/1970', '19700201', 'SW1A 1AA', 'sw1a1aa']) expect(text).not.toContain(secret);
    expect(text).toContain('failed');
  });

  it('writes one JSON object per line with level and timestamp', async () => {
    const { logger, lines } = capture();
    logger.info('started', { batchId: 'b2' });
    await flush();
    const parsed = JSON.parse(lines[0]!);
    expect(parsed).toMatchObject({ level: 'info', message: 'started', batchId: 'b2' });
    expect(typeof parsed.timestamp).toBe('string');
  });
});

describe('the form of log lines', () => {
  it('is one readable line of text on a terminal, with the fields as key=value', async () => {
    const { logger, lines } = capture({ isTTY: true });
    logger.warn('chunk failed', { batchId: 'b3', chunk: 4 });
    await flush();
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} warn  chunk failed batchId=b3 chunk=4\n?$/);
  });

  it('is JSON lines when not on a terminal, and text or JSON when asked, whatever the stream', async () => {
    const plain = capture({ isTTY: false });
    plain.logger.info('started');
    const askedJson = capture({ isTTY: true, format: 'json' });
    askedJson.logger.info('started');
    const askedText = capture({ isTTY: false, format: 'text' });
    askedText.logger.info('started');
    await flush();
    expect(JSON.parse(plain.lines[0]!)).toMatchObject({ message: 'started' });
    expect(JSON.parse(askedJson.lines[0]!)).toMatchObject({ message: 'started' });
    expect(askedText.lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} info  started/);
  });

  it('redacts text lines as it redacts JSON lines', async () => {
    const { logger, lines } = capture({ format: 'text' });
    logger.warn('lookup for 943 476 5919 born 01/02/1970 at SW1A 1AA failed', { familyName: "O'Brien", nested: { postcode: 'LS1 4AP' } });
    logger.error(new Error('no match for 9434765919'));
    await flush();
    const text = lines.join('');
    for (const secret of ['943 476 5919', '9434765919', '01/02/1970', 'SW1A 1AA', "O'Brien", 'LS1 4AP']) expect(text).not.toContain(secret);
    expect(text).toContain(REDACTED);
  });

  it('shows no stack in text below LOG_LEVEL=debug', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger({ level: 'info', stream, format: 'text' }).error(new Error('disk full'));
    await flush();
    expect(lines.join('')).toContain('disk full');
    expect(lines.join('')).not.toMatch(/\n\s+at /);
  });
});
