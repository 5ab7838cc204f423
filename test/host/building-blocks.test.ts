// The small pieces under the session: the typed emitter, the deadline queue, the logger.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { DeadlineQueue, lineLogger, TypedEmitter } from '../../src/host/index.js';
import { encode } from '../../src/protocol/index.js';
import { codes, disposeRigs, scriptedRig } from './helpers.js';

describe('TypedEmitter', () => {
  it('calls listeners in order; a throwing one does not stop the others; off/once', () => {
    const errors: unknown[] = [];
    const e = new TypedEmitter<{ a: number; b: string }>((_n, err) => errors.push(err));
    const seen: string[] = [];
    const off1 = e.on('a', (n) => seen.push(`1:${n}`));
    e.on('a', () => {
      throw new Error('boom');
    });
    e.once('a', (n) => seen.push(`once:${n}`));
    e.on('a', (n) => seen.push(`3:${n}`));
    expect(e.has('a')).toBe(true);
    expect(e.has('b')).toBe(false);
    e.emit('a', 1);
    off1();
    e.emit('a', 2);
    expect(seen).toEqual(['1:1', 'once:1', '3:1', '3:2']);
    expect(errors).toHaveLength(2);
    expect(e.listenerCount('a')).toBe(2);
  });

  it('unsubscribing inside a listener is safe', () => {
    const e = new TypedEmitter<{ a: number }>();
    const seen: number[] = [];
    const off = e.on('a', () => off());
    e.on('a', (n) => seen.push(n));
    e.emit('a', 1);
    e.emit('a', 2);
    expect(seen).toEqual([1, 2]);
  });
});

describe('DeadlineQueue', () => {
  it('one clock timer; expires only live entries, in order; settled ones are dropped', () => {
    const clock = new VirtualClock();
    const q = new DeadlineQueue(clock);
    const expired: number[] = [];
    const mk = (id: number, at: number) => {
      const d = {
        deadline: at,
        done: false,
        expire() {
          d.done = true;
          expired.push(id);
        },
      };
      return d;
    };
    const a = mk(1, 100);
    const b = mk(2, 50);
    const c = mk(3, 200);
    q.add(a);
    q.add(b);
    q.add(c);
    expect(clock.pending).toBe(1);
    b.done = true;
    clock.advance(150);
    expect(expired).toEqual([1]);
    clock.advance(100);
    expect(expired).toEqual([1, 3]);
    expect(q.size).toBe(0);
    // Settled heads are dropped as new entries come: a long run of replied requests stays small.
    for (let i = 0; i < 10_000; i++) {
      const d = mk(i, clock.now() + 1000);
      q.add(d);
      d.done = true;
    }
    expect(q.size).toBeLessThanOrEqual(1);
  });
});

describe('logger', () => {
  it('lineLogger filters by level and is lazy', () => {
    const lines: string[] = [];
    let calls = 0;
    const log = lineLogger((l) => lines.push(l), { name: 'dcp', level: 'warn' });
    log.debug?.(() => {
      calls++;
      return 'x';
    });
    log.warn?.(() => 'careful');
    expect(calls).toBe(0);
    expect(lines).toEqual(['[dcp] warn: careful']);
  });
});

describe('listener failures and codec notes', () => {
  it('a throwing syslog listener is HANDLER_FAILED; INIT wide fields are SYSLOG_INIT_WIDE_FIELDS', async () => {
    const r = scriptedRig();
    r.session.on('state', () => {
      throw new Error('listener bug');
    });
    const boot = r.session.boot();
    r.iop.post(0, encode({ kind: 'hello', minVersion: 11, maxVersion: 12 }));
    await r.iop.next();
    r.iop.post(0, encode({ kind: 'epmap', base: 0, bitmap: 4, last: true }));
    await r.iop.next();
    r.iop.post(0, encode({ kind: 'iopPowerStateAck', state: 0x20 }));
    await r.iop.next();
    await r.iop.next();
    r.iop.post(0, encode({ kind: 'apPowerStateAck', state: 0x20 }));
    await boot;
    expect(new Set(codes(r.warnings))).toEqual(new Set(['HANDLER_FAILED']));
    r.warnings.length = 0;
    r.iop.post(2, encode({ kind: 'syslogInit', entryCount: 0x140, messageSize: 0x80 }));
    await r.iop.idle();
    expect(codes(r.warnings)).toEqual(['SYSLOG_INIT_WIDE_FIELDS']);
    await disposeRigs();
  });
});
