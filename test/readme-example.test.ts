// The README's "library in ten lines" runs as written (same calls, same package entry points).
import { expect, it } from 'vitest';
import { AscMailboxDriver, decode, RtkitSession, summarize } from '../src/index.js';
import { SimSoc } from '../src/sim/index.js';
import { strategiesFor } from '../src/wiring/index.js';

it('boots a simulated co-processor with the host library through its registers', async () => {
  const soc = new SimSoc({ seed: 1 });
  const stop = soc.clock.autoAdvance();
  const cp = soc.add({ profile: 'generic' });
  const transport = new AscMailboxDriver({
    mmio: soc.mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const session = new RtkitSession({
    transport,
    clock: soc.clock,
    strategies: strategiesFor(soc, cp),
    cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
  });
  const lines: string[] = [];
  session.on('syslog', (e) => lines.push(`${e.entry.context}: ${e.entry.message}`));
  await session.boot();
  expect(session.version).toBe(12);
  expect(summarize(decode(0, 0x00100000000c000bn, { dir: 'iop->ap' }))).toBe('HELLO v11..12');
  await new Promise((r) => soc.clock.setTimer(2000, () => r(undefined)));
  await session.shutdown();
  stop();
  expect(lines.length).toBeGreaterThan(0);
  expect(soc.violations()).toEqual([]);
});
