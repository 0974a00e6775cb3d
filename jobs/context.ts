import type { Logger } from '../src/log.js';
import type { AuditSink } from '../src/pipeline/audit-sink.js';
import type { PipelineQueues } from '../src/pipeline/queues.js';
import type { SmspCaller } from '../src/pipeline/strategy.js';

/** What the processors of one worker process share: nothing here is per job. */
export interface JobContext {
  dataDir: string;
  queues: PipelineQueues;
  caller: SmspCaller;
  logger: Logger;
  audit: AuditSink;
}
