/**
 * The protective marking NHS client requirements ask outputs to carry (IF Common Client
 * Requirements, Appendix A; peers-and-governance.md §4.6). Written at the head of every output
 * whose format has room for it (summary JSON and HTML). A CSV has none: a line above the header
 * is taken for the header by Python's csv and pandas, so every CSV pds-trace writes starts with
 * its column names and nothing else.
 */
export const NHS_CONFIDENTIAL_LABEL = 'NHS Confidential: Personal Data about a patient';

/**
 * What a simulated batch's summary says beside the marking: its answers came from the built-in
 * simulator's synthetic population, not PDS. A batch traced against the simulator by mistake once
 * looked like a real batch with a poor match rate; this makes that impossible to miss.
 */
export const SIMULATED_LABEL = 'SIMULATED: answers from the built-in SMSP simulator (synthetic population), not PDS. Never use for patient care.';
