/**
 * `npm run bench`: one JSON line per figure ({name, value, unit, note?}). Figures, never
 * assertions: they vary with the machine.
 */
import { run as runCodec } from './codec.js';
import type { BenchResult } from './result.js';

type Suite = { name: string; run: () => BenchResult[] | Promise<BenchResult[]> };

const suites: Suite[] = [{ name: 'codec', run: runCodec }];

async function loadOptional(name: string, path: string): Promise<void> {
  try {
    const mod = (await import(path)) as { run?: Suite['run'] };
    if (mod.run) suites.push({ name, run: mod.run });
  } catch (e) {
    const code = (e as { code?: string }).code;
    // A suite whose module does not exist yet is skipped quietly; any other failure is shown.
    if (code !== 'ERR_MODULE_NOT_FOUND')
      process.stderr.write(`bench: suite ${name}: ${String(e)}\n`);
  }
}

await loadOptional('crashlog', './crashlog.js');
await loadOptional('trace', './trace.js');
await loadOptional('sim-memory', './sim-memory.js');
await loadOptional('mailbox', './mailbox.js');
await loadOptional('firmware', './firmware.js');
await loadOptional('sim', './sim.js');
await loadOptional('host', './host.js');
await loadOptional('proxy', './proxy.js');
await loadOptional('demo', './demo.js');
await loadOptional('viewer', './viewer.js');
// Last: it writes and decodes a 1 GB file (RTKIT_BENCH_LOG_MB to change).
await loadOptional('trace-file', './trace-file.js');

const only = process.argv.slice(2);
for (const s of suites) {
  if (only.length > 0 && !only.includes(s.name)) continue;
  for (const r of await s.run()) {
    const value = Number(r.value.toPrecision(4));
    process.stdout.write(`${JSON.stringify({ ...r, value })}\n`);
  }
}
