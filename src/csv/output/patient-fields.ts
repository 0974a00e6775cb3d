import type { PdsAddress, PdsPatient, PdsTelecom } from '../../domain/demographics.js';

/**
 * How a PDS answer is flattened into CSV cells. Pure functions shared by the native and the
 * MESH-compatible layouts, so both read a patient the same way.
 */

const PDS_DATE = /^(\d{4})(\d{2})?(\d{2})?\d*$/;

/**
 * A PDS date (HL7 TS: YYYY, YYYYMM, YYYYMMDD, possibly with a time, SPEC §4.4) as ISO 8601 at the
 * precision PDS knew: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`. Anything else is returned unchanged so
 * nothing is lost (the caller guards it as free text).
 */
export function isoDateFromPds(value: string | undefined): string {
  if (!value) return '';
  const m = PDS_DATE.exec(value);
  if (!m) return value;
  return [m[1], m[2], m[3]].filter((part) => part !== undefined).join('-');
}

/** A PDS date at its known precision without separators (YYYY, YYYYMM or YYYYMMDD), as PDS MESH files carry it. */
export function compactDateFromPds(value: string | undefined): string {
  return isoDateFromPds(value).replaceAll('-', '');
}

/** The home address (`addr[@use='H']`, SPEC §5.5); the first address when none is marked home. */
export function homeAddress(patient: PdsPatient | undefined): PdsAddress | undefined {
  if (!patient) return undefined;
  return patient.addresses.find((a) => a.use === 'H') ?? patient.addresses[0];
}

/** Address lines joined for one cell; PDS pads to five lines with blanks, which are skipped. */
export function addressText(address: PdsAddress | undefined): string {
  if (!address) return '';
  return address.lines
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(', ');
}

export function givenNamesText(patient: PdsPatient | undefined): string {
  return patient ? patient.givenNames.join(' ') : '';
}

/** `true` / `false` when PDS said, empty when unknown (no patient, or no flag returned). */
export function sensitiveText(patient: PdsPatient | undefined): string {
  if (patient?.sensitive === undefined) return '';
  return patient.sensitive ? 'true' : 'false';
}

export interface ContactDetails {
  telephone: string;
  mobile: string;
  email: string;
}

/**
 * PDS telecoms split as PDS MESH files carry them. Use MC is a mobile (HL7 V3 TelecommunicationAddressUse);
 * values carry `tel:` / `mailto:` schemes, and `mailto:` may come with any use (SPEC §5.5).
 */
export function contactDetails(telecoms: readonly PdsTelecom[]): ContactDetails {
  const details: ContactDetails = { telephone: '', mobile: '', email: '' };
  for (const telecom of telecoms) {
    const value = telecom.value.trim();
    if (/^mailto:/i.test(value)) {
      details.email ||= value.replace(/^mailto:/i, '');
    } else {
      const number = value.replace(/^tel:/i, '');
      if (telecom.use === 'MC') details.mobile ||= number;
      else details.telephone ||= number;
    }
  }
  return details;
}
