import { readFileSync } from 'node:fs';

/**
 * CPU time and peak memory of another process, sampled from /proc while it runs (Linux). The last
 * sample before the process exits is kept, so short tails are lost by at most one interval.
 */
export class ProcessSampler {
  cpuSeconds = 0;
  peakRssMb = 0;
  private readonly timer: NodeJS.Timeout;
  private static readonly TICKS = 100; // USER_HZ on Linux

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      this.cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ProcessSampler.TICKS;
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) this.peakRssMb = Math.max(this.peakRssMb, Number(hwm[1]) / 1024);
    } catch {
      // The process has gone: keep the last sample.
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}
