import type { Logger } from '../src/log.js';
import type { AuditSink } from '../src/pipeline/audit-sink.js';
import type { Provider } from '../src/pipeline/provider.js';
import type { PipelineQueues } from '../src/pipeline/queues.js';
import type { SmspCaller } from '../src/pipeline/strategy.js';

/** What the processors of one worker process share: nothing here is per job. */
export interface JobContext {
  dataDir: string;
  queues: PipelineQueues;
  caller: SmspCaller;
  /** The provider `caller` reaches: trace jobs of batches for another wait for a worker on theirs. */
  provider: Provider;
  /** How long such a job waits before a worker looks at it again, in milliseconds. */
  providerHoldMs: number;
  logger: Logger;
  audit: AuditSink;
}
