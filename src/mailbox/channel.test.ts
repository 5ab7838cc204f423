// The channel pair beyond the shared contract: both ends, bounded depth, delivery modes, close.
import { describe, expect, it } from 'vitest';
import { macrotask, VirtualClock } from '../clock.js';
import { isRtkitError } from '../errors.js';
import { createChannelPair } from './channel.js';
import type { MailboxMessage } from './types.js';

describe('createChannelPair', () => {
  it('carries messages both ways, in order', async () => {
    const { ap, iop } = createChannelPair();
    const atIop: MailboxMessage[] = [];
    const atAp: MailboxMessage[] = [];
    iop.setReceiver((m) => {
      atIop.push(m);
      void iop.send(m.ep, m.msg + 1n);
    });
    ap.setReceiver((m) => atAp.push(m));
    await ap.send(1, 10n);
    await ap.send(2, 20n);
    await macrotask();
    expect(atIop).toEqual([
      { ep: 1, msg: 10n },
      { ep: 2, msg: 20n },
    ]);
    expect(atAp).toEqual([
      { ep: 1, msg: 11n },
      { ep: 2, msg: 21n },
    ]);
  });

  it('bounded depth: sends wait for the receiving end to drain, then complete in order', async () => {
    const clock = new VirtualClock();
    const { ap, iop } = createChannelPair({ clock, depth: 2, delivery: { iop: 'poll' } });
    const got: bigint[] = [];
    iop.setReceiver((m) => got.push(m.msg));
    const done: number[] = [];
    const sends = [0, 1, 2, 3].map((i) => ap.send(1, BigInt(i)).then(() => done.push(i)));
    await macrotask();
    expect(done).toEqual([0, 1]);
    expect(iop.pending).toBe(2);
    expect(await iop.poll()).toBe(2);
    await macrotask();
    expect(done).toEqual([0, 1, 2, 3]);
    expect(await iop.poll()).toBe(2);
    await Promise.all(sends);
    expect(got).toEqual([0n, 1n, 2n, 3n]);
  });

  it('a blocked send times out on the injected clock', async () => {
    const clock = new VirtualClock();
    const { ap } = createChannelPair({ clock, depth: 1, delivery: { iop: 'poll' } });
    await ap.send(1, 1n);
    const p = ap.send(1, 2n, { timeoutMs: 50 }).catch((e: unknown) => e);
    clock.advance(49);
    await macrotask();
    clock.advance(1);
    const e = (await p) as { code: string; details: unknown };
    expect(e.code).toBe('TRANSPORT_TIMEOUT');
    expect(e.details).toMatchObject({ ep: 1, timeoutMs: 50 });
    expect(clock.pending).toBe(0);
  });

  it('closing one end fails the other end’s sends with TRANSPORT_CLOSED (peer)', async () => {
    const { ap, iop } = createChannelPair({ depth: 1, delivery: { ap: 'poll' } });
    await iop.send(1, 1n);
    const blocked = iop.send(1, 2n).catch((e: unknown) => e);
    await ap.close();
    const e = (await blocked) as { code: string; details: unknown };
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.details).toEqual({ peer: true });
    expect(isRtkitError(await iop.send(1, 3n).catch((x: unknown) => x), 'TRANSPORT_CLOSED')).toBe(
      true,
    );
    expect(iop.closed).toBe(false);
  });

  it('the traffic tap sees each message once', async () => {
    const seen: string[] = [];
    const { ap, iop } = createChannelPair({
      onTraffic: (dir, ep, msg) => seen.push(`${dir} ${ep} ${msg}`),
    });
    iop.setReceiver(() => {});
    ap.setReceiver(() => {});
    await ap.send(1, 1n);
    await iop.send(2, 2n);
    await macrotask();
    expect(seen).toEqual(['ap->iop 1 1', 'iop->ap 2 2']);
  });

  it('rejects bad options', () => {
    expect(() => createChannelPair({ depth: 0 })).toThrow(/BAD_INPUT/);
    expect(() => createChannelPair({ timeoutMs: -1 })).toThrow(/BAD_INPUT/);
  });
});
