// The EndpointHandle contract (src/host/types.ts), one suite run against every implementation
// the session offers: over the in-process channel and over the register-level mailbox.
import { afterEach, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../src/clock.js';
import { sleep } from '../../src/clock.js';
import type { EndpointHandle } from '../../src/host/index.js';
import { decode, encode } from '../../src/protocol/index.js';
import { disposeRigs, scriptedRig, simRig } from './helpers.js';

afterEach(disposeRigs);

interface Subject {
  handle: EndpointHandle;
  clock: VirtualClock;
  /** The device sends `msg` on the endpoint unprompted. */
  inject(msg: bigint): void;
}

const IMPLEMENTATIONS: Record<string, () => Promise<Subject>> = {
  async channel() {
    const r = scriptedRig();
    // A tiny co-processor: boots, then echoes every word on 0x20.
    r.iop.end.setReceiver((m) => {
      const k = m.ep === 0 ? decode(0, m.msg, { dir: 'ap->iop' }).kind : undefined;
      if (k === 'helloAck') {
        void r.iop.end.send(0, encode({ kind: 'epmap', base: 1, bitmap: 1, last: true }));
      } else if (k === 'epmapReply') {
        void r.iop.end.send(0, encode({ kind: 'iopPowerStateAck', state: 0x20 }));
      } else if (k === 'setApPowerState') {
        void r.iop.end.send(0, encode({ kind: 'apPowerStateAck', state: 0x20 }));
      } else if (m.ep === 0x20) void r.iop.end.send(0x20, m.msg);
    });
    const boot = r.session.boot();
    void r.iop.end.send(0, encode({ kind: 'hello', minVersion: 11, maxVersion: 12 }));
    await boot;
    const handle = await r.session.openEndpoint(0x20);
    return { handle, clock: r.clock, inject: (w) => void r.iop.end.send(0x20, w) };
  },
  async registers() {
    const r = simRig({ profile: 'generic', background: false });
    await r.session.boot();
    const handle = await r.session.openEndpoint(0x20);
    return { handle, clock: r.clock, inject: (w) => r.cp.firmware.inject(0x20, w) };
  },
};

for (const [name, make] of Object.entries(IMPLEMENTATIONS)) {
  describe(`EndpointHandle contract: ${name}`, () => {
    it('ep; send resolves once the transport took the word', async () => {
      const s = await make();
      expect(s.handle.ep).toBe(0x20);
      await expect(s.handle.send(5n)).resolves.toBeUndefined();
    });

    it('request resolves with the first matching word, which listeners do not see', async () => {
      const s = await make();
      const seen: bigint[] = [];
      s.handle.onMessage((w) => seen.push(w));
      const reply = await s.handle.request(7n, (w) => w === 7n);
      expect(reply).toBe(7n);
      await sleep(s.clock, 5);
      expect(seen).toEqual([]);
    });

    it('onMessage: every unconsumed word, in arrival order; unsubscribe stops delivery', async () => {
      const s = await make();
      const seen: bigint[] = [];
      const off = s.handle.onMessage((w) => seen.push(w));
      for (const w of [1n, 2n, 3n]) s.inject(w);
      await sleep(s.clock, 5);
      expect(seen).toEqual([1n, 2n, 3n]);
      off();
      s.inject(4n);
      await sleep(s.clock, 5);
      expect(seen).toEqual([1n, 2n, 3n]);
    });

    it('concurrent requests each get their own reply', async () => {
      const s = await make();
      const ws = [10n, 11n, 12n, 13n];
      const got = await Promise.all(ws.map((w) => s.handle.request(w, (x) => x === w)));
      expect(got).toEqual(ws);
    });

    it('request: TIMEOUT {step: request} after timeoutMs; ABORTED on the signal', async () => {
      const s = await make();
      const t0 = s.clock.now();
      await expect(s.handle.request(1n, () => false, { timeoutMs: 50 })).rejects.toMatchObject({
        code: 'TIMEOUT',
        details: { step: 'request' },
      });
      expect(s.clock.now() - t0).toBeGreaterThanOrEqual(50);
      const ac = new AbortController();
      ac.abort('no');
      await expect(s.handle.request(1n, () => true, { signal: ac.signal })).rejects.toMatchObject({
        code: 'ABORTED',
      });
    });
  });
}
