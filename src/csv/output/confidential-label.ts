/**
 * The protective marking NHS client requirements ask outputs to carry (IF Common Client
 * Requirements, Appendix A; peers-and-governance.md §4.6). Written at the head of every output
 * whose format has room for it (summary JSON and HTML); a CSV has none that every reader would skip.
 */
export const NHS_CONFIDENTIAL_LABEL = 'NHS Confidential: Personal Data about a patient';
