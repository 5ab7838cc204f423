// The same firmware model behind the in-process channel (no registers, no CPU control): the
// session's behaviour does not depend on the transport. Recovery without CPU control is the
// documented manual path: reinit, restart the CPU by whatever means the platform has, boot.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.js';
import type { CrashEvent } from '../../src/host/index.js';
import { genericProfile } from '../../src/sim/profiles/index.js';
import { channelRig, codes, disposeRigs } from './helpers.js';

afterEach(disposeRigs);

describe('generic over the in-process channel', () => {
  for (const [name, profile, opts] of [
    ['v12', genericProfile(), {}],
    ['v11', genericProfile({ maxVersion: 11 }), {}],
    ['v10.2', genericProfile({ maxVersion: 10, minor: 2 }), { minVersion: 10 }],
  ] as const) {
    it(`${name}: boot, traffic, idle/wake, quiesce/wake, shutdown/wake, crash and manual recovery`, async () => {
      const r = channelRig({ profile, session: opts });
      const s = r.session;
      const crashes: CrashEvent[] = [];
      s.on('crash', (e) => crashes.push(e));
      let logs = 0;
      s.on('syslog', () => logs++);
      const echo = async (): Promise<void> => {
        const h = await s.openEndpoint(s.firstAppEndpoint);
        expect(await h.request(0xabcn, (w) => w === 0xabcn)).toBe(0xabcn);
      };
      r.port.run(true);
      await s.boot();
      await echo();
      await sleep(r.clock, 1000);
      expect(logs).toBeGreaterThan(0);
      await s.idle();
      await s.wake();
      await echo();
      await s.quiesce();
      await s.wake();
      await echo();
      await s.shutdown();
      await s.wake();
      await sleep(r.clock, 10);
      await s.send(1, 0x22n);
      await sleep(r.clock, 10);
      expect(crashes).toHaveLength(1);
      expect(crashes[0]?.report).toBeDefined();
      await expect(s.resetCpu()).rejects.toMatchObject({ code: 'CPU_CONTROL_UNAVAILABLE' });
      await s.reinit();
      r.port.run(false);
      r.port.run(true);
      await s.boot();
      await echo();
      await s.shutdown();
      expect(r.fw.violations).toEqual([]);
      expect(r.soc.faults.faults).toEqual([]);
      expect(codes(r.warnings)).toEqual([]);
    });
  }
});
