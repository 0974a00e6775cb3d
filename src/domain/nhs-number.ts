/**
 * NHS number rules (NHS Data Dictionary "NHS NUMBER"; shared/smsp/SPEC.md §9).
 * A new-style NHS number is ten digits; the tenth is a Modulus 11 check digit over the first nine.
 */

export type NhsNumber = string & { readonly __brand: 'NhsNumber' };

const WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/**
 * The check digit for nine leading digits, or null when no valid number can start with them
 * (11 − (Σ mod 11) = 10 is never issued).
 */
export function nhsCheckDigit(firstNine: string): number | null {
  if (!/^\d{9}$/.test(firstNine)) throw new TypeError('nhsCheckDigit needs exactly nine digits');
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine.charCodeAt(i) - 48) * WEIGHTS[i]!;
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/** True when `value` is exactly ten digits with a correct Modulus 11 check digit. */
export function isValidNhsNumber(value: string): value is NhsNumber {
  if (!/^\d{10}$/.test(value)) return false;
  return nhsCheckDigit(value.slice(0, 9)) === Number(value[9]);
}

/** 3-3-4 form for people (MSCA-PDS-06); files for machines keep the ten digits. */
export function formatNhsNumberForDisplay(value: string): string {
  return /^\d{10}$/.test(value) ? `${value.slice(0, 3)} ${value.slice(3, 6)} ${value.slice(6)}` : value;
}

/** Builds a valid NHS number from nine leading digits, or null when none exists for them. */
export function completeNhsNumber(firstNine: string): NhsNumber | null {
  const check = nhsCheckDigit(firstNine);
  return check === null ? null : (`${firstNine}${check}` as NhsNumber);
}
