/** The five SMSP PDS interactions by name. Their wire identifiers live in src/smsp/interactions.ts. */
export const INTERACTIONS = [
  'verifyNHSNumber',
  'getNHSNumber',
  'getPatientDetailsByNHSNumber',
  'getPatientDetailsBySearch',
  'getPatientDetails',
] as const;

export type Interaction = (typeof INTERACTIONS)[number];

export function isInteraction(value: string): value is Interaction {
  return (INTERACTIONS as readonly string[]).includes(value);
}
