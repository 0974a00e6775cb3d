import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { openAtomicFile, writeFileAtomic } from '../csv/output/atomic-file.js';

/** JSON Lines files of the batch folder: written atomically, read as a stream. */

export async function writeJsonLines(file: string, records: readonly unknown[]): Promise<void> {
  await writeFileAtomic(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export interface JsonLinesWriter<T> {
  write(record: T): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export async function openJsonLinesWriter<T>(file: string): Promise<JsonLinesWriter<T>> {
  const atomic = await openAtomicFile(file);
  return {
    async write(record: T) {
      // once() also rejects on 'error', so a failed write cannot leave us waiting for a drain.
      if (!atomic.stream.write(`${JSON.stringify(record)}\n`)) await once(atomic.stream, 'drain');
    },
    commit: () => atomic.commit(),
    abort: () => atomic.abort(),
  };
}

export async function* readJsonLines<T>(file: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as T;
  }
}

export async function readAllJsonLines<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  for await (const record of readJsonLines<T>(file)) out.push(record);
  return out;
}
