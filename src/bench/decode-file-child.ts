// Child process of the `trace-file` bench: runs `rtkit decode FILE --json` with stdout discarded
// and reports wall time and peak RSS of this process alone.
import { nodeIO } from '../cli/node-io.js';
import { runCli } from '../cli/program.js';

const file = process.argv[2]!;
const io = { ...nodeIO(), stdout: () => {}, drain: async () => {}, stderrIsTTY: false };
const t0 = performance.now();
const code = await runCli(['decode', file, '--json'], io);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  `${JSON.stringify({ code, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
