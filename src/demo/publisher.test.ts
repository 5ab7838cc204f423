// The feed publisher on its own: numbering, word formatting, both outlets, crash events (with and
// without a report), remarks.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.js';
import { buildCrashlog, parseCrashlog } from '../crashlog/index.js';
import { RtkitError } from '../errors.js';
import type { FeedEvent } from '../viewer/feed.js';
import { FeedHub } from '../viewer/feed.js';
import { type FeedDetail, FeedPublisher } from './publisher.js';

function setup() {
  const clock = new VirtualClock();
  const hub = new FeedHub();
  const seen: [FeedEvent, FeedDetail | undefined][] = [];
  const feed = new FeedPublisher({ clock, hub, onEvent: (e, d) => seen.push([e, d]) });
  return { clock, hub, seen, feed };
}

describe('FeedPublisher', () => {
  it('messages: 16 hex digits (bit 63 included), seq from 0, t in seconds of the clock', () => {
    const { clock, hub, seen, feed } = setup();
    clock.advance(1500);
    feed.message('smc', 'iop->ap', 0, 0x0010_0000_000c_000bn);
    feed.message('dcp', 'ap->iop', 0x37, 0xffff_ffff_ffff_ffffn, 2250);
    feed.message('dcp', 'ap->iop', 0x37, 1n << 63n);
    expect(seen.map(([e]) => e)).toEqual([
      {
        type: 'message',
        t: 1.5,
        dir: 'iop->ap',
        coproc: 'smc',
        ep: 0,
        msg: '0x00100000000c000b',
        seq: 0,
      },
      {
        type: 'message',
        t: 2.25,
        dir: 'ap->iop',
        coproc: 'dcp',
        ep: 0x37,
        msg: '0xffffffffffffffff',
        seq: 1,
      },
      {
        type: 'message',
        t: 1.5,
        dir: 'ap->iop',
        coproc: 'dcp',
        ep: 0x37,
        msg: '0x8000000000000000',
        seq: 2,
      },
    ]);
    expect(hub.history()).toEqual(seen.map(([e]) => e));
    expect(feed.messages).toBe(3);
    expect(feed.events).toBe(3);
  });

  it('syslog lines and remarks', () => {
    const { seen, feed } = setup();
    feed.syslog('dcp', 'a.cpp:1', 'hello');
    feed.phase('Boot');
    feed.phase('SMC: boot', 'smc');
    expect(seen.map(([e]) => e)).toEqual([
      { type: 'syslog', t: 0, coproc: 'dcp', context: 'a.cpp:1', message: 'hello' },
      { type: 'phase', t: 0, text: 'Boot' },
      { type: 'phase', t: 0, text: 'SMC: boot', coproc: 'smc' },
    ]);
    expect(feed.syslogLines).toBe(1);
  });

  it('a crash: its report as JSON in the event, the parsed report beside it', () => {
    const { seen, hub, feed } = setup();
    const parsed = parseCrashlog(
      buildCrashlog({ sections: [{ kind: 'Cstr', id: 0, text: 'x\n' }] }),
    );
    if (!parsed.ok) throw new Error('did not parse');
    const log = new Uint8Array(16);
    feed.crash('dcp', {
      msg: 0x0010_3000_a000_0000n,
      time: 8500,
      log,
      size: 16,
      report: parsed.report,
    });
    const [e, d] = seen[0]!;
    expect(e).toMatchObject({ type: 'crash', t: 8.5, coproc: 'dcp', msg: '0x00103000a0000000' });
    expect(e.type === 'crash' && e.report?.sections.map((s) => s.fourcc)).toEqual(['Cstr']);
    expect(d?.report).toBe(parsed.report);
    // The hub gets JSON-safe data only.
    expect(() => JSON.stringify(hub.history())).not.toThrow();
  });

  it('a crash without a crash log says why (missing buffer, or a log that did not parse)', () => {
    const { seen, feed } = setup();
    feed.crash('ans', {
      msg: 0x10n,
      time: 0,
      log: undefined,
      size: 0,
      problem: 'CRASHLOG_UNAVAILABLE',
    });
    feed.crash('ans', {
      msg: 0x10n,
      time: 0,
      log: new Uint8Array(4),
      size: 4,
      parseError: new RtkitError('CRASHLOG_BAD_MAGIC', 'no CLHE'),
    });
    expect(seen.map(([e]) => e)).toEqual([
      {
        type: 'crash',
        t: 0,
        coproc: 'ans',
        msg: '0x0000000000000010',
        problem: 'CRASHLOG_UNAVAILABLE',
      },
      {
        type: 'crash',
        t: 0,
        coproc: 'ans',
        msg: '0x0000000000000010',
        problem: 'did not parse: CRASHLOG_BAD_MAGIC: no CLHE',
      },
    ]);
    expect(seen.every(([, d]) => d === undefined)).toBe(true);
  });
});
