import type { X509Certificate } from 'node:crypto';
import { fail, pass, skip, warn, worstOf, type CheckOutcome, type DoctorCheck } from './check.js';
import { loadTlsMaterial, TlsMaterialError } from '../smsp/transport.js';
import { certificatesInPem, clientCertificates } from './tls-material.js';

/** Under this many days left, a certificate is a warning: time to order its renewal. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function subjectName(cert: X509Certificate): string {
  return /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? cert.subject.replace(/\n/g, ', ');
}

/** Whether one certificate is in date now, or will be within the warning period. */
export function certificateValidity(label: string, cert: X509Certificate, now: Date, renew: string): CheckOutcome {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const name = `${label} "${subjectName(cert)}"`;
  if (now < from) return fail(`${name} is not valid until ${day(from)}`, `Check this machine's clock, or use a certificate valid today. ${renew}`);
  if (now > to) return fail(`${name} expired on ${day(to)}`, renew);
  const daysLeft = Math.floor((to.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < EXPIRY_WARNING_DAYS) return warn(`${name} expires on ${day(to)} (${daysLeft} days)`, renew);
  return pass(`${name} valid until ${day(to)}`);
}

/** Follows issuers from the client certificate through any it came with to one in the CA bundle. */
export function chainsTo(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[]): boolean {
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (anchors.some((a) => current.checkIssued(a) && current.verify(a.publicKey))) return true;
    const next = intermediates.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return false;
    current = next;
  }
  return false;
}

const RENEW_CLIENT = 'Request a renewed endpoint certificate for this system and set SMSP_TLS_CERT and SMSP_TLS_KEY (or SMSP_TLS_PFX) to it.';
const RENEW_CA = 'Install the current CA bundle for the SMSP environment and point SMSP_TLS_CA at it.';

const TLS_FIX: Readonly<Record<string, string>> = {
  SMSP_TLS_CERT: 'Point SMSP_TLS_CERT at the endpoint certificate (PEM) and SMSP_TLS_KEY at its own key, readable by this user; set SMSP_TLS_PASSPHRASE if the key is encrypted.',
  SMSP_TLS_KEY: 'Point SMSP_TLS_KEY at the key generated with this certificate, readable by this user.',
  SMSP_TLS_CA: 'Point SMSP_TLS_CA at the CA bundle (PEM) of the SMSP environment, readable by this user.',
  SMSP_TLS_PFX: 'Point SMSP_TLS_PFX at the PKCS#12 file as issued, and set SMSP_TLS_PASSPHRASE to its passphrase.',
};

export const tlsCheck: DoctorCheck = {
  name: 'tls',
  title: 'TLS certificates',
  async run({ config, now }) {
    const settings = config!.smsp.tls;
    if (!config!.smsp.url) return skip('no SMSP_URL: the built-in simulator makes throwaway certificates each run');
    const { certPath, pfxPath, caPath } = settings;
    if (!certPath && !pfxPath) return fail('no client certificate configured', 'Set SMSP_TLS_CERT and SMSP_TLS_KEY (or SMSP_TLS_PFX).');
    try {
      const material = await loadTlsMaterial(settings);
      const [leaf, ...intermediates] = await clientCertificates(material);
      if (!leaf) return fail(`${pfxPath ?? certPath} holds no certificate`, 'Use the certificate file as issued (PEM, or PKCS#12 for SMSP_TLS_PFX).');
      const findings: CheckOutcome[] = [
        pass('key matches the certificate'),
        certificateValidity('client certificate', leaf, now, RENEW_CLIENT),
      ];
      if (!caPath) {
        findings.push(warn('no SMSP_TLS_CA: the SMSP server is checked against Node\'s built-in CAs only', 'Set SMSP_TLS_CA to the CA bundle of the SMSP environment (NHS Spine certificates are not in public CA lists).'));
      } else {
        const bundle = material.ca ? certificatesInPem(material.ca) : [];
        if (bundle.length === 0) return fail(`SMSP_TLS_CA: ${caPath} holds no PEM certificate`, 'Point SMSP_TLS_CA at the CA bundle (PEM) of the SMSP environment.');
        for (const ca of bundle) findings.push(certificateValidity('CA', ca, now, RENEW_CA));
        findings.push(
          chainsTo(leaf, intermediates, bundle)
            ? pass('client certificate chains to SMSP_TLS_CA')
            : warn(
                'client certificate does not chain to a certificate in SMSP_TLS_CA',
                'SMSP refuses a client certificate its CA did not issue: check that the certificate and the CA bundle are for the same environment (or include the intermediate in SMSP_TLS_CERT).',
              ),
        );
      }
      return worstOf(findings);
    } catch (err) {
      if (err instanceof TlsMaterialError) return fail(err.message, TLS_FIX[err.setting] ?? 'Check the TLS settings.');
      throw err;
    }
  },
};
