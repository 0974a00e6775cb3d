#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command();
program
  .name('pds-trace')
  .description('Batch tracing of patient records against the NHS PDS Spine Mini Service Provider (SMSP) API')
  .version('0.1.0');

await program.parseAsync(process.argv);
