// Passive mode: a PassiveSession follows what an RtkitSession does with the simulator (fed from
// a tap on the simulated ASC) and reaches the same conclusions without sending anything.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.js';
import { type CrashEvent, PassiveSession, type SyslogEvent } from '../../src/host/index.js';
import { createChannelPair } from '../../src/mailbox/channel.js';
import { encode } from '../../src/protocol/index.js';
import { disposeRigs, simRig } from './helpers.js';

afterEach(disposeRigs);

describe('PassiveSession', () => {
  it('follows a whole session: state, syslog entries, the crash log, recovery', async () => {
    const r = simRig({ profile: 'generic' });
    const passive = new PassiveSession({
      clock: r.clock,
      readMemory: async (device, len) => r.soc.memory.read(device, len),
    });
    r.cp.asc.onTraffic((dir, ep, msg) => passive.observe(dir, ep, msg));
    const activeLogs: string[] = [];
    const passiveLogs: string[] = [];
    r.session.on('syslog', (e) => activeLogs.push(e.entry.message));
    passive.on('syslog', (e: SyslogEvent) => passiveLogs.push(e.entry.message));
    const crashes: CrashEvent[] = [];
    const passiveCrashes: CrashEvent[] = [];
    r.session.on('crash', (e) => crashes.push(e));
    passive.on('crash', (e) => passiveCrashes.push(e));

    await r.session.boot();
    await sleep(r.clock, 1500);
    await passive.settled();
    const a = r.session.state;
    const p = passive.state;
    expect(p).toEqual(a);
    expect(passive.running).toBe(true);
    expect(passiveLogs).toEqual(activeLogs);
    expect(passiveLogs.length).toBeGreaterThan(0);

    await r.session.send(1, 0x40n);
    await sleep(r.clock, 5);
    await passive.settled();
    expect(passive.crashed).toBe(true);
    expect(passiveCrashes[0]?.log).toEqual(crashes[0]?.log);
    expect(passiveCrashes[0]?.report?.sections.length).toBe(crashes[0]?.report?.sections.length);

    await r.session.recover();
    await sleep(r.clock, 5);
    await passive.settled();
    expect(passive.crashed).toBe(false);
    expect(passive.state.discoveredEndpoints).toEqual(r.session.discoveredEndpoints);
    expect(passive.history.length).toBeGreaterThan(20);
    expect(passive.history[0]?.message.kind).toBe('hello');
  });

  it('attach: receive-only, never sends; unknown and undiscovered traffic is warned about', async () => {
    const { ap, iop } = createChannelPair();
    let sends = 0;
    const spy = new Proxy(ap, {
      get(t, k) {
        if (k === 'send') {
          return (...a: Parameters<typeof ap.send>) => {
            sends++;
            return t.send(...a);
          };
        }
        const v = Reflect.get(t, k);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const passive = new PassiveSession({ historyLimit: 3 });
    const warnings: string[] = [];
    passive.on('warning', (w) => warnings.push(w.code));
    passive.attach(spy);
    for (const w of [
      encode({ kind: 'hello', minVersion: 11, maxVersion: 12 }),
      encode({ kind: 'epmap', base: 0, bitmap: 2, last: true }),
      0x00f0000000000000n,
    ]) {
      await iop.send(0, w);
    }
    await iop.send(2, encode({ kind: 'syslogLog', index: 0 }));
    await new Promise((r) => setTimeout(r, 5));
    await passive.settled();
    expect(sends).toBe(0);
    expect(passive.state.discoveredEndpoints).toEqual([1]);
    expect(warnings).toEqual(['UNKNOWN_MESSAGE']);
    expect(passive.history).toHaveLength(3);
    expect(passive.droppedHistory).toBe(1);
  });
});
