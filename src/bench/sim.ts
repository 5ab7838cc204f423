/**
 * Simulator benchmarks: a full boot of each profile through the register interface (minimal
 * host, virtual time, real wall time measured), and boot-to-shutdown cycles.
 */
import { PROFILE_NAMES } from '../sim/profiles/index.js';
import { SimSoc } from '../sim/soc.js';
import { MiniHost } from '../sim/testing/mini-host.js';
import type { BenchResult } from './result.js';

async function bootOnce(profile: (typeof PROFILE_NAMES)[number], seed: number): Promise<number> {
  const soc = new SimSoc({ seed, record: false });
  const stop = soc.clock.autoAdvance();
  try {
    const cp = soc.add({ profile, background: false });
    const host = new MiniHost(soc, cp);
    const t0 = performance.now();
    await host.boot({ ordering: 'linux' });
    const dt = performance.now() - t0;
    await host.close();
    return dt;
  } finally {
    stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const profile of PROFILE_NAMES) {
    for (let i = 0; i < 20; i++) await bootOnce(profile, i); // warm up
    const times: number[] = [];
    for (let i = 0; i < 100; i++) times.push(await bootOnce(profile, i));
    times.sort((a, b) => a - b);
    out.push({
      name: `sim.boot.${profile}`,
      value: times[50]!,
      unit: 'ms',
      note: `median of 100 boots through the registers (RUN to AP ON), p90 ${times[90]!.toFixed(3)} ms`,
    });
  }
  return out;
}
