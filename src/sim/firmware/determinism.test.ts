// Same seed and same host inputs → the same messages at the same virtual times (deep-equal),
// including background traffic, crash dumps and fault injection.

import { describe, expect, it } from 'vitest';
import { PowerState } from '../../protocol/index.js';
import { getProfile, type ProfileName } from '../profiles/index.js';
import { FakeIopPort } from './testing/fake-port.js';
import { setup } from './testing/setup.js';

function session(name: ProfileName, seed: number, faults?: string) {
  const { host, fw, port } = setup(getProfile(name), {
    seed,
    ...(faults !== undefined ? { faults } : {}),
  });
  host.bootLinux();
  host.advance(5000);
  host.send(0, 0x0030000000000009n);
  host.setAp(PowerState.Idle);
  host.setIop(PowerState.Idle);
  host.setIop(PowerState.Init);
  host.setAp(PowerState.On);
  host.advance(3000);
  fw.crash('determinism');
  host.advance(10);
  return {
    wire: host.received.map((r) => ({ t: r.time, ep: r.ep, msg: r.msg })),
    sent: port.hostSent,
    crash: fw.crashes[0]!.bytes,
    history: fw.history,
  };
}

describe('determinism', () => {
  for (const name of ['generic', 'dcp', 'smc', 'ans', 'mtp'] as const) {
    it(`${name}: same seed, same inputs → identical sequence`, () => {
      const a = session(name, 42);
      const b = session(name, 42);
      expect(a.wire.length).toBeGreaterThan(20);
      expect(b).toEqual(a);
    });
  }

  it('a different seed changes timing and content, not the protocol', () => {
    const a = session('generic', 1);
    const b = session('generic', 2);
    expect(b.wire).not.toEqual(a.wire);
    expect(b.wire.slice(0, 5).map((w) => w.msg)).toEqual(a.wire.slice(0, 5).map((w) => w.msg));
  });

  it('with fault injection too (hostile mode, random corruption)', () => {
    const spec = 'seed=7;hostile:ms=20,count=30;corrupt:ep=2,type=5,p=0.2';
    const a = session('generic', 3, spec);
    const b = session('generic', 3, spec);
    expect(b).toEqual(a);
  });

  it('uses no wall-clock timers: nothing happens without advancing virtual time', () => {
    const port = new FakeIopPort();
    const { host } = setup(getProfile('generic'));
    host.port.setRun(true);
    expect(host.port.i2a).toHaveLength(0);
    expect(port.i2a).toHaveLength(0);
    host.advance(1);
    expect(host.kinds('hello')).toHaveLength(1);
  });
});
