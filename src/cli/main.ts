#!/usr/bin/env node
import { nodeIO } from './node-io.js';
import { runCli } from './program.js';

// A closed pipe (`rtkit decode big.log | head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// A closed stderr leaves nowhere to report anything; do not turn it into a crash.
process.stderr.on('error', () => {});

const code = await runCli(process.argv.slice(2), nodeIO());
process.exitCode = code;
