import type { ReasonCode } from '../domain/reasons.js';
import { SmspTransportError } from '../smsp/errors.js';
import { createHttpsTransport, loadTlsMaterial, TlsMaterialError } from '../smsp/transport.js';
import { fail, pass, skip, type DoctorCheck } from './check.js';

/** What to do when the probe fails, by how it failed. */
const PROBE_FIX: Partial<Record<ReasonCode, string>> = {
  tls_error:
    'The TLS handshake failed: SMSP refused our client certificate, or its server certificate is not trusted by SMSP_TLS_CA. Run `pds-trace doctor --only tls`, and check that certificate, key and CA are for this SMSP environment.',
  connection_refused: 'Nothing accepts connections at SMSP_URL: check its host and port.',
  timeout: 'SMSP_URL did not answer in time: check the route to it (HSCN, proxy, firewall) and SMSP_TIMEOUT_MS.',
  connection_reset: 'The connection was cut: a proxy or firewall between here and SMSP may be refusing it.',
  network_error: 'Check SMSP_URL (host name and port) and this machine\'s network and DNS.',
};

export const smspCheck: DoctorCheck = {
  name: 'smsp',
  title: 'SMSP answers',
  timeoutMs: 30_000,
  async run({ config }, signal) {
    const smsp = config!.smsp;
    if (!smsp.url) return skip('no SMSP_URL: the built-in simulator starts with each command');
    const host = new URL(smsp.url).host;
    let material;
    try {
      material = await loadTlsMaterial(smsp.tls);
    } catch (err) {
      if (err instanceof TlsMaterialError) return skip(`not probed: ${err.message}`, 'Mend the TLS material first (see the TLS check).');
      throw err;
    }
    const transport = createHttpsTransport({ url: smsp.url, tls: material, timeoutMs: smsp.timeoutMs });
    const started = performance.now();
    try {
      const status = await transport.probe(signal);
      const ms = Math.round(performance.now() - started);
      return pass(`${host} answered over mutual TLS (HTTP ${status} to a GET, in ${ms} ms; no patient lookup made)`);
    } catch (err) {
      if (!(err instanceof SmspTransportError)) throw err;
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      return fail(`${host}: ${err.message.replace(/^SMSP probe: /, '')}${code && !err.message.includes(code) ? ` (${code})` : ''}`, PROBE_FIX[err.reason] ?? 'Check SMSP_URL and the network route to it.');
    } finally {
      transport.close();
    }
  },
};
