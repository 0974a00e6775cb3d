import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { openAtomicFile } from './atomic-file.js';
import { CSV_DIALECT, csvRecordWriter, type CsvOptions, type CsvSink } from './csv-sink.js';

/**
 * A PDS MESH response file: a control line, then the data records (batch-formats.md §3.3):
 * `<request reference>,SPINE_MPT_RESPONSE,<number of data records>,00`, as in Dorset's response
 * fixtures. Loaders reject a file whose record count differs from the control line's [DSP-loader],
 * and the count is known only at the end of a stream, so the records go to a private `.part` file
 * first and close() writes the control line followed by a copy of them into the final file (one
 * extra sequential pass; memory still flat). No column-name row: the response fixtures have none,
 * and Dorset's reader accepts the file either way.
 */
export const MESH_RESPONSE_WORKFLOW_ID = 'SPINE_MPT_RESPONSE';
/** File-level code 00: the file was processed (row outcomes are per record). */
export const MESH_FILE_SUCCESS = '00';

/** `MPTREQ_<yyyyMMddHHmmss>` (UTC): the request reference form of §3.4, for inputs that did not bring one. */
export function meshRequestReference(at: Date): string {
  return `MPTREQ_${at.toISOString().replace(/\D/g, '').slice(0, 14)}`;
}

export interface MeshResultsFileOptions extends CsvOptions {
  /** The request file's reference to answer; default {@link meshRequestReference} of now. */
  reference?: string;
}

export async function openMeshResultsFile(finalPath: string, options: MeshResultsFileOptions = {}): Promise<CsvSink> {
  const reference = options.reference ?? meshRequestReference(new Date());
  const body = await openAtomicFile(`${finalPath}.records`);
  const records = csvRecordWriter(body.stream);
  let count = 0;

  return {
    async write(record) {
      await records.write(record);
      count++;
    },
    async close() {
      try {
        await records.end();
        const out = await openAtomicFile(finalPath);
        try {
          const control = stringify([[reference, MESH_RESPONSE_WORKFLOW_ID, String(count), MESH_FILE_SUCCESS]], { ...CSV_DIALECT, bom: options.bom ?? false });
          out.stream.write(control);
          await pipeline(createReadStream(body.partPath), out.stream);
          await out.commit();
        } catch (err) {
          await out.abort();
          throw err;
        }
      } finally {
        // The records were copied (or the close failed): the private part file goes either way.
        await body.abort();
      }
    },
    async abort() {
      await records.destroy();
      await body.abort();
    },
  };
}
