/**
 * One password sign-in attempt in its own process, for the lockout race test: its own UserStore
 * (recording its changes in the folder's audit trail, as the CLI's does), its own lock attempts,
 * its own scrypt. Prints the outcome as one JSON line.
 *
 *   tsx test/auth/sign-in-child.ts <dataDir> <userId> <password>
 */
import { AuthenticationError, signInWithPassword } from '../../src/auth/authenticate.js';
import { recordedUsers } from '../support/accounts.js';
import { FAST_SCRYPT, RecordingAudit } from './fixtures.js';

const [dataDir, userId, password] = process.argv.slice(2) as [string, string, string];
const audit = new RecordingAudit();
try {
  const users = await recordedUsers(dataDir);
  await signInWithPassword({ users, audit, passwordParams: FAST_SCRYPT }, userId, password);
  process.stdout.write(`${JSON.stringify({ outcome: 'admitted', kinds: audit.kinds() })}\n`);
} catch (err) {
  if (!(err instanceof AuthenticationError)) throw err;
  process.stdout.write(`${JSON.stringify({ outcome: err.reason, kinds: audit.kinds() })}\n`);
}
