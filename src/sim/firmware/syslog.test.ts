// Syslog as the firmware writes it (PROTOCOL.md §5.2, §8): INIT geometry per profile, entries
// written read-modify-write through the DmaPort by the §8 rules, one LOG at a time, each waiting
// for the identical echo, indices wrapping per profile (DCP after 0x3e).

import { describe, expect, it } from 'vitest';
import { genericProfile } from '../profiles/generic.js';
import { getProfile } from '../profiles/index.js';
import { setup } from './testing/setup.js';

describe('syslog', () => {
  it('DCP: INIT 64 × 0x80, indices wrap from 0x3e to 0 [observed]', () => {
    const { host, fw } = setup(getProfile('dcp'), { background: false });
    host.bootLinux();
    host.advance(5);
    expect(host.kinds('syslogInit')[0]!.msg).toBe(0x0080000080000040n);
    for (let i = 0; i < 70; i++) {
      fw.log('UPPipeDCP_H13P.cpp', 7476, `line ${i}`);
      host.advance(0.5);
    }
    const idx = host.kinds('syslogLog').map((r) => (r.m as { index: number }).index);
    expect(idx.length).toBeGreaterThanOrEqual(70);
    const wrap = idx.indexOf(0x3e);
    expect(idx[wrap + 1]).toBe(0);
    expect(Math.max(...idx)).toBe(0x3e);
    expect(fw.violations).toEqual([]);
  });

  it('writes by the §8 rules: context cut from the left to 23, message to size − 1', () => {
    const { host, fw } = setup(getProfile('dcp'), { background: false });
    host.bootLinux();
    host.advance(5);
    const long = `${'x'.repeat(120)} initiating deferred run mode change`;
    fw.log('UnifiedPipeline.cpp', 1356, long);
    fw.log('cmd.c', 6074, ' boot mode normal');
    host.advance(1);
    const [a, b] = host.syslog.slice(-2);
    expect(a!.context).toBe('nifiedPipeline.cpp:1356');
    expect(a!.message).toBe(long.slice(0, 127));
    expect(b).toMatchObject({ context: 'cmd.c:6074', message: ' boot mode normal' });
  });

  it('read-modify-write keeps stale bytes after the NULs [inferred]', () => {
    const { host, fw, dma } = setup(getProfile('generic'), { background: false });
    host.bootLinux();
    host.advance(5);
    const b = host.buffers.get(2)!;
    dma.poke(b.addr, new Uint8Array(0xa0).fill(0x41));
    fw.log('a.c', 1, 'hi');
    host.advance(1);
    const entry = dma.peek(b.addr, 0xa0);
    expect([...entry.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(entry.subarray(8, 13))).toBe('a.c:1');
    expect(entry[13]).toBe(0);
    expect(entry[14]).toBe(0x41);
    expect(new TextDecoder().decode(entry.subarray(32, 34))).toBe('hi');
    expect(entry[34]).toBe(0);
    expect(entry[35]).toBe(0x41);
    expect(host.syslog.at(-1)).toMatchObject({ context: 'a.c:1', message: 'hi' });
  });

  it('one LOG at a time: the next waits for the echo', () => {
    const { host, fw } = setup(getProfile('generic'), {
      background: false,
      host: { echoSyslog: false },
    });
    host.bootLinux();
    host.advance(5);
    for (let i = 0; i < 5; i++) fw.log('a.c', i, `m${i}`);
    host.advance(100);
    const logs = host.kinds('syslogLog');
    expect(logs).toHaveLength(1);
    host.send(2, logs[0]!.msg);
    host.advance(1);
    expect(host.kinds('syslogLog')).toHaveLength(2);
    expect(fw.state.syslogOutstanding).toBe(host.kinds('syslogLog')[1]!.msg);
  });

  it('INIT before the buffer request when the profile says so (§12 row 19)', () => {
    for (const initFirst of [false, true]) {
      const { host } = setup(genericProfile({ syslogInitFirst: initFirst }));
      host.bootLinux();
      host.advance(5);
      const kinds = host.received.filter((r) => r.ep === 2).map((r) => r.m.kind);
      expect(kinds.slice(0, 2)).toEqual(
        initFirst ? ['syslogInit', 'syslogBufferRequest'] : ['syslogBufferRequest', 'syslogInit'],
      );
      expect(host.syslogFailures).toEqual([]);
    }
  });

  it('keeps the steady trickle of profile lines going (NVMe lines from the fixture)', () => {
    const { host } = setup(getProfile('ans'));
    host.bootLinux();
    host.advance(30_000);
    const ctx = new Set(host.syslog.map((e) => e.context));
    expect(ctx).toEqual(new Set(['apcie.c:962', 'apcie_legacy.c:469', 'cmd.c:6074']));
    expect(host.syslog.length).toBeGreaterThan(10);
    expect(host.syslog.find((e) => e.context === 'cmd.c:6074')!.message).toBe(' boot mode normal');
  });

  it('10 000 LOGs back to back, each echoed, in order (B29)', () => {
    const { host, fw } = setup(getProfile('generic'), { background: false });
    host.bootLinux();
    host.advance(5);
    let n = 0;
    while (n < 10_000) {
      for (let i = 0; i < 50; i++) fw.log('burst.c', n + i, `entry ${n + i}`);
      n += 50;
      host.pump();
    }
    host.advance(1);
    expect(host.syslog).toHaveLength(10_000);
    expect(host.syslog.at(-1)!.message).toBe('entry 9999');
    expect(fw.violations).toEqual([]);
  });
});
