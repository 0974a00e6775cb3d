/**
 * The SMSP simulator, for in-process use (tests, the quick start, the embedded runner) and for the
 * `pds-trace simulator` command. Nothing in the client's code paths imports it (ARCHITECTURE).
 */

export { startSimulator, type RunningSimulator, type SimulatorOptions } from './server.js';
export { createDirectory, loadDirectory, type PdsDirectory, type SimulatedAnswer } from './directory.js';
export { FAULT_KINDS, FAULTS, FaultSpecError, parseFaultSpec, type FaultKind, type FaultRates } from './faults.js';
export { PROTOCOL_RULES, RULE_IDS, TIMESTAMP_POLICY, type ProtocolRule, type RuleId } from './protocol-rules.js';
export { renderPrometheus, type SimulatorMetricsSnapshot } from './metrics.js';
export { CERTIFICATE_FILES } from './certificates.js';
