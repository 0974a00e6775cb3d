import type { AuditSink } from '../pipeline/audit-sink.js';
import type { PdsTraceMetrics } from './registry.js';

/**
 * `store` (the audit store, or any sink in front of it) with every failed append counted in
 * `pdstrace_audit_append_failures_total`, then rethrown unchanged: a failed append still stops the
 * work that needed it (ARCHITECTURE property 7), and the count lets an alert say so before the
 * morning's missing results do. Every other member is the store's own, so the result stands in
 * for the store wherever it was used (web sessions, workers, watchers).
 */
export function withAuditMetrics<T extends AuditSink>(store: T, metrics: Pick<PdsTraceMetrics, 'auditAppendFailures'>): T {
  const append: AuditSink['append'] = async (events) => {
    try {
      return await store.append(events);
    } catch (err) {
      metrics.auditAppendFailures.inc();
      throw err;
    }
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') return append;
      const value: unknown = Reflect.get(target, property, target);
      // Bound to the store itself: its methods may use private fields, which a proxy does not have.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
