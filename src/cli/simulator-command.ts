import { InvalidArgumentError, Option, type Command } from 'commander';
import { SIMULATOR_ASID } from '../config.js';
import { createLogger } from '../log.js';
import { DEFAULT_POPULATION } from '../simulator/defaults.js';
import { FAULT_KINDS, FAULTS, FaultSpecError, parseFaultSpec, type FaultRates } from '../simulator/faults.js';
import { startSimulator, type RunningSimulator } from '../simulator/server.js';

/**
 * `pds-trace simulator`: the SMSP simulator as a standalone HTTPS server, for pointing any SMSP client
 * at before onboarding. It prints where it listens and the exact settings that point pds-trace at
 * it, says loudly that its answers are synthetic, and stops on SIGINT / SIGTERM.
 */

interface SimulatorFlags {
  port: number;
  host: string;
  population?: string;
  seed: string;
  size: number;
  latency: number;
  jitter: number;
  maxInFlight?: number;
  faults: FaultRates;
  faultSeed?: string;
  certDir?: string;
  serverName?: string[];
  logLevel: 'error' | 'warn' | 'info' | 'debug';
}

/** Where the command writes and which signals stop it; tests pass their own. */
export interface SimulatorCommandIo {
  stdout: { write(text: string): unknown };
  signals: { once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown };
}

const PROCESS_IO: SimulatorCommandIo = { stdout: process.stdout, signals: process };

/**
 * Runs the command's body on behalf of someone: the CLI passes its sign-in and permission check
 * (src/cli/session.ts), so the simulator itself knows nothing of users.
 */
export type CommandGuard = (flags: Record<string, unknown>, body: () => Promise<void>) => Promise<void>;

export function registerSimulatorCommand(program: Command, io: SimulatorCommandIo = PROCESS_IO, guard?: CommandGuard): Command {
  return program
    .command('simulator')
    .description('run the SMSP simulator: a synthetic PDS behind the SMSP interface, over mutual TLS (never real data)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', nonNegativeInteger, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--population <file>', 'population file written by the population generator').conflicts(['seed', 'size']))
    .option('--seed <seed>', 'seed of the generated population', String(DEFAULT_POPULATION.seed))
    .option('--size <n>', 'people in the generated population', positiveInteger, DEFAULT_POPULATION.size)
    .option('--latency <ms>', 'each answer is sent this many milliseconds after its request arrived (the simulator\'s own work included)', nonNegativeInteger, 0)
    .option('--jitter <ms>', 'latency varies by up to ± this many milliseconds', nonNegativeInteger, 0)
    .option('--max-in-flight <n>', 'provider-side cap: answer HTTP 503 above this many requests in flight', positiveInteger)
    .option('--faults <spec>', `fault rates 0..1, e.g. busy=0.05,fault2100=0.02 (kinds: ${FAULT_KINDS.join(', ')})`, faultSpec, {})
    .option('--fault-seed <seed>', 'seed for fault and jitter draws, for reproducible runs')
    .option('--server-name <name...>', 'extra host names for the generated server certificate (clients on other hosts)')
    .option('--cert-dir <dir>', 'folder for the generated certificates (reused when it already holds a set); default a temporary folder')
    .addOption(new Option('--log-level <level>', 'log detail on standard error').choices(['error', 'warn', 'info', 'debug']).default('info'))
    .action(async (flags: SimulatorFlags) => {
      const body = async () => {
      const simulator = await startSimulator({
        port: flags.port,
        host: flags.host,
        populationFile: flags.population,
        seed: flags.seed,
        size: flags.size,
        latencyMs: flags.latency,
        jitterMs: flags.jitter,
        maxInFlight: flags.maxInFlight,
        faults: flags.faults,
        faultSeed: flags.faultSeed,
        certDir: flags.certDir,
        serverNames: flags.serverName,
        logger: createLogger({ level: flags.logLevel }),
      });
      io.stdout.write(startupText(simulator, flags));
      await new Promise<void>((resolve) => {
        io.signals.once('SIGINT', resolve);
        io.signals.once('SIGTERM', resolve);
      });
      await simulator.close();
      io.stdout.write('SMSP simulator stopped.\n');
      };
      await (guard ? guard(flags as unknown as Record<string, unknown>, body) : body());
    });
}

/** What the command prints once listening: the notice, the URL and the settings for a client. */
export function startupText(simulator: RunningSimulator, flags: Pick<SimulatorFlags, 'population' | 'seed' | 'size' | 'certDir'>): string {
  const banner = '*'.repeat(81);
  const population = flags.population ? `people from ${flags.population}` : `${flags.size} generated people (seed ${JSON.stringify(flags.seed)})`;
  const lines = [
    banner,
    '***  pds-trace SMSP SIMULATOR: every answer is SYNTHETIC test data, not PDS.  ***',
    '***  Never use its results for patient care.                                  ***',
    banner,
    `Listening on ${simulator.url} (mutual TLS) with ${population}.`,
    `Metrics: ${new URL('/metrics', simulator.url).href}  Status: ${new URL('/status', simulator.url).href}`,
  ];
  const paths = simulator.clientTlsPaths;
  if (paths !== undefined && simulator.certDir !== undefined) {
    lines.push(
      `Certificates: ${simulator.certDir}${flags.certDir === undefined ? ' (a temporary folder, removed when the simulator stops)' : ''}`,
      'Point pds-trace at it with these settings:',
      `SMSP_URL=${shellQuote(simulator.url)}`,
      `SMSP_TLS_CERT=${shellQuote(paths.cert)}`,
      `SMSP_TLS_KEY=${shellQuote(paths.key)}`,
      `SMSP_TLS_CA=${shellQuote(paths.ca)}`,
      `SMSP_ASID=${SIMULATOR_ASID}`,
    );
  }
  lines.push(
    `Fault triggers (family name): ${FAULT_KINDS.map((kind) => FAULTS[kind].trigger).join(', ')}`,
    'Press Ctrl+C to stop.',
  );
  return `${lines.join('\n')}\n`;
}

function shellQuote(value: string): string {
  return /^[\w./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number, 0 or more');
  return n;
}

function positiveInteger(value: string): number {
  const n = nonNegativeInteger(value);
  if (n < 1) throw new InvalidArgumentError('expected a whole number, 1 or more');
  return n;
}

function faultSpec(value: string): FaultRates {
  try {
    return parseFaultSpec(value);
  } catch (err) {
    if (err instanceof FaultSpecError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}
