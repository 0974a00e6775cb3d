import type { Command } from 'commander';
import { DOCTOR_CHECKS, doctorContext, runDoctor, UnknownCheckError, type CheckReport, type CheckStatus } from '../doctor/index.js';
import { CliError, EXIT } from './errors.js';

/**
 * `pds-trace doctor`: is this installation ready to trace tonight? Needs no sign-in, because it is
 * what an operator runs when sign-in itself may be what is broken; it shows no patient data and no
 * secret (passwords in URLs are masked, passphrases never read out).
 */

interface DoctorFlags {
  json?: boolean;
  only?: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function countByStatus(reports: readonly CheckReport[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { PASS: 0, WARN: 0, FAIL: 0, SKIP: 0 };
  for (const r of reports) counts[r.status] += 1;
  return counts;
}

export function formatDoctorReport(reports: readonly CheckReport[]): string {
  const lines = reports.flatMap((r) => [`[${r.status}] ${r.title}: ${r.summary}`, ...(r.status !== 'PASS' && r.fix ? [`       Fix: ${r.fix}`] : [])]);
  const counts = countByStatus(reports);
  lines.push('', `${plural(counts.FAIL, 'failure')}, ${plural(counts.WARN, 'warning')}, ${counts.PASS} passed, ${counts.SKIP} skipped`);
  return `${lines.join('\n')}\n`;
}

export function registerDoctorCommand(program: Command): Command {
  return program
    .command('doctor')
    .description('check settings, certificates, SMSP, Redis, workers, schedules, the data and watched folders, the audit trail and users; each problem with its fix')
    .option('--json', 'print the checks as JSON')
    .option('--only <check...>', `run only these checks (${DOCTOR_CHECKS.map((c) => c.name).join(', ')})`)
    .action(async (flags: DoctorFlags) => {
      let reports: CheckReport[];
      try {
        reports = await runDoctor(doctorContext(), { only: flags.only });
      } catch (err) {
        if (err instanceof UnknownCheckError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
      const counts = countByStatus(reports);
      process.stdout.write(flags.json ? `${JSON.stringify({ ok: counts.FAIL === 0, counts, checks: reports }, null, 2)}\n` : formatDoctorReport(reports));
      if (counts.FAIL > 0) process.exitCode = EXIT.failure;
    });
}
