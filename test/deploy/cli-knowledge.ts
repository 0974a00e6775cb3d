import { registeredCommands } from '../support/cli-commands.js';
import { knownSettings } from '../support/settings.js';
import type { CliKnowledge } from './deploy-rules.js';

/** What the deployment files are checked against: the program's commands and options, and the settings it reads. */
export async function cliKnowledge(): Promise<CliKnowledge> {
  return { ...(await registeredCommands()), settings: knownSettings() };
}
