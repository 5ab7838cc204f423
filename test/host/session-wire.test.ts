// The session's wire behaviour against a hand-driven co-processor (ScriptedIop over the
// in-process channel): exact words for version negotiation (incl. v10), EPMAP replies, power-ack
// matching (§4.7), unexpected and unknown messages, KDebug, requests, close.
import { afterEach, describe, expect, it } from 'vitest';
import { RtkitSession, type SessionOptions } from '../../src/host/index.js';
import { createChannelPair } from '../../src/mailbox/channel.js';
import { decode, encode } from '../../src/protocol/index.js';
import { codes, disposeRigs, hex, type ScriptedRig, scriptedRig } from './helpers.js';

afterEach(disposeRigs);

const HELLO = (min: number, max: number) =>
  encode({ kind: 'hello', minVersion: min, maxVersion: max });
const EPMAP = (base: number, bitmap: number, last: boolean) =>
  encode({ kind: 'epmap', base, bitmap, last });
const IOP_ACK = (state: number) => encode({ kind: 'iopPowerStateAck', state });
const AP_ACK = (state: number) => encode({ kind: 'apPowerStateAck', state });

/** Drive a boot to completion; returns the words the host sent on EP0, as hex. */
async function scriptBoot(
  r: ScriptedRig,
  o: { hello?: [number, number]; epmap?: bigint[]; iopAck?: number; apAck?: boolean | number } = {},
): Promise<string[]> {
  const boot = r.session.boot();
  const [min, max] = o.hello ?? [11, 12];
  r.iop.post(0, HELLO(min, max));
  const words: string[] = [hex((await r.iop.next()).msg)];
  for (const w of o.epmap ?? [EPMAP(0, 0x11e, true)]) {
    r.iop.post(0, w);
    words.push(hex((await r.iop.next()).msg));
  }
  r.iop.post(0, IOP_ACK(o.iopAck ?? 0x20));
  for (;;) {
    const m = await r.iop.next();
    words.push(hex(m.msg));
    if (decode(0, m.msg, { dir: 'ap->iop' }).kind === 'setApPowerState') break;
  }
  if (o.apAck !== false) r.iop.post(0, AP_ACK(typeof o.apAck === 'number' ? o.apAck : 0x20));
  await boot;
  return words;
}

describe('version negotiation (§3.2)', () => {
  const ok: [number, number, Partial<SessionOptions>, string, number, number | undefined][] = [
    [11, 12, {}, '0x00200000000c000c', 12, undefined],
    [11, 11, {}, '0x00200000000b000b', 11, undefined],
    [3, 12, {}, '0x00200000000c000c', 12, undefined],
    [10, 11, { minVersion: 10 }, '0x00200000000b000b', 11, undefined],
    [11, 12, { maxVersion: 11 }, '0x00200000000b000b', 11, undefined],
    [2, 10, { minVersion: 10 }, '0x00200000000a0002', 10, 2],
    [0, 10, { minVersion: 10 }, '0x00200000000a0000', 10, 0],
  ];
  for (const [fwMin, fwMax, opts, ack, version, minor] of ok) {
    it(`HELLO ${fwMin}..${fwMax} with ${JSON.stringify(opts)} → ${ack}`, async () => {
      const r = scriptedRig(opts);
      const words = await scriptBoot(r, { hello: [fwMin, fwMax], apAck: true });
      expect(words[0]).toBe(ack);
      expect(r.session.version).toBe(version);
      expect(r.session.minorVersion).toBe(minor);
    });
  }

  const bad: [number, number, Partial<SessionOptions>][] = [
    [13, 14, {}],
    [12, 12, { maxVersion: 11 }],
    [2, 10, {}],
    [12, 11, {}],
    [3, 9, { minVersion: 10 }],
  ];
  for (const [fwMin, fwMax, opts] of bad) {
    it(`HELLO ${fwMin}..${fwMax} with ${JSON.stringify(opts)} → VERSION_UNSUPPORTED, nothing sent`, async () => {
      const r = scriptedRig(opts);
      const boot = r.session.boot();
      r.iop.post(0, HELLO(fwMin, fwMax));
      await expect(boot).rejects.toMatchObject({
        code: 'VERSION_UNSUPPORTED',
        details: { fwMin, fwMax, step: 'hello' },
      });
      await r.iop.idle();
      expect(r.iop.take()).toEqual([]);
      expect(r.session.state.handshake).toBe('none');
    });
  }
});

describe('v10 (HoolockLinux)', () => {
  it('v10.2: every EPMAP block is final, BASE-only reply; applications from 6', async () => {
    const r = scriptedRig({ minVersion: 10 });
    const words = await scriptBoot(r, {
      hello: [2, 10],
      epmap: [EPMAP(0, 0b1111110, false)],
    });
    expect(words[1]).toBe('0x0080000000000000');
    expect(words.slice(2, -1)).toEqual([1, 2, 3, 4].map((ep) => `0x005000${hex2(ep)}00000002`));
    expect(r.session.firstAppEndpoint).toBe(6);
    expect(codes(r.warnings)).toEqual(['UNKNOWN_SYSTEM_ENDPOINT']);
    expect(r.warnings[0]?.ep).toBe(5);
    await r.session.openEndpoint(6);
    expect(hex((await r.iop.next()).msg)).toBe('0x0050000600000002');
  });

  it('v10.0/10.1: application endpoints from 5; AP ON is not acked and not waited for', async () => {
    for (const minor of [0, 1]) {
      const r = scriptedRig({ minVersion: 10 });
      const words = await scriptBoot(r, {
        hello: [minor, 10],
        epmap: [EPMAP(0, 0b111110, true)],
        apAck: false,
      });
      expect(words.at(-1)).toBe('0x00b0000000000020');
      expect(r.session.running).toBe(true);
      expect(r.session.apPowerState).toBe(0x20);
      expect(r.session.firstAppEndpoint).toBe(5);
      expect(r.session.startedEndpoints).toEqual([1, 2, 3, 4]);
    }
  });

  it('v10: QUIESCED acked as OFF is accepted; on v12 it is a mismatch', async () => {
    const r = scriptedRig({ minVersion: 10 });
    await scriptBoot(r, { hello: [1, 10], apAck: false });
    const q = r.session.quiesce();
    expect(hex((await r.iop.next()).msg)).toBe('0x00b0000000000010');
    r.iop.post(0, AP_ACK(0x10));
    expect(hex((await r.iop.next()).msg)).toBe('0x0060000000000010');
    r.iop.post(0, IOP_ACK(0));
    await q;

    const s = scriptedRig();
    await scriptBoot(s);
    const q2 = s.session.quiesce();
    await s.iop.next();
    s.iop.post(0, AP_ACK(0x10));
    await s.iop.next();
    s.iop.post(0, IOP_ACK(0));
    await expect(q2).rejects.toMatchObject({
      code: 'POWER_STATE_MISMATCH',
      details: { requested: 0x10, acked: 0 },
    });
  });
});

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

describe('EPMAP and system endpoints (§3.3, §3.4)', () => {
  it('several blocks: MORE on all but the last, LAST on the last; bit 0 ignored', async () => {
    const r = scriptedRig();
    const words = await scriptBoot(r, {
      epmap: [EPMAP(0, 0x51f, false), EPMAP(1, 1, false), EPMAP(7, 0x80000000, true)],
    });
    expect(words.slice(1, 4)).toEqual([
      '0x0080000000000001',
      '0x0080000100000001',
      '0x0088000700000000',
    ]);
    expect(r.session.discoveredEndpoints).toEqual([1, 2, 3, 4, 8, 0xa, 0x20, 0xff]);
    expect(words.slice(4, -1)).toEqual(
      [1, 2, 3, 4, 8, 0xa].map((ep) => `0x005000${hex2(ep)}00000002`),
    );
  });

  it('configurable system endpoints: only those are started', async () => {
    const r = scriptedRig({ systemEndpoints: [1, 4] });
    const words = await scriptBoot(r, { epmap: [EPMAP(0, 0x11e, true)] });
    expect(words.slice(2, -1)).toEqual(['0x0050000100000002', '0x0050000400000002']);
    expect(codes(r.warnings)).toEqual([
      'UNKNOWN_SYSTEM_ENDPOINT',
      'UNKNOWN_SYSTEM_ENDPOINT',
      'UNKNOWN_SYSTEM_ENDPOINT',
    ]);
  });

  it('an EPMAP block outside the handshake is not answered', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    r.iop.post(0, EPMAP(0, 1, true));
    await r.iop.idle();
    expect(r.iop.take()).toEqual([]);
    expect(codes(r.warnings)).toEqual(['UNEXPECTED_MESSAGE']);
  });
});

describe('power-ack matching (§4.7)', () => {
  it('after boot any IOP ack with low byte 0x20 is ON (0x220)', async () => {
    const r = scriptedRig();
    await scriptBoot(r, { iopAck: 0x220 });
    expect(r.session.running).toBe(true);
    expect(r.session.iopPowerState).toBe(0x220);
  });

  it('a boot whose IOP ack is not ON rejects POWER_STATE_MISMATCH', async () => {
    const r = scriptedRig();
    const boot = r.session.boot();
    r.iop.post(0, HELLO(11, 12));
    await r.iop.next();
    r.iop.post(0, EPMAP(0, 2, true));
    await r.iop.next();
    r.iop.post(0, IOP_ACK(0x10));
    await expect(boot).rejects.toMatchObject({
      code: 'POWER_STATE_MISMATCH',
      details: { acked: 0x10, step: 'iop-power-ack' },
    });
  });

  it('explicit setter: 0x220 acked 0x20 matches; 0x201 acked 0x20 does not; AP exact', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    const a = r.session.setIopPowerState(0x220);
    expect(hex((await r.iop.next()).msg)).toBe('0x0060000000000220');
    r.iop.post(0, IOP_ACK(0x20));
    await a;
    const b = r.session.setIopPowerState(0x201);
    await r.iop.next();
    r.iop.post(0, IOP_ACK(0x20));
    await expect(b).rejects.toMatchObject({
      code: 'POWER_STATE_MISMATCH',
      details: { requested: 0x201, acked: 0x20, which: 'iop' },
    });
    const c = r.session.setApPowerState(0x10);
    await r.iop.next();
    r.iop.post(0, AP_ACK(0x201));
    await expect(c).rejects.toMatchObject({
      code: 'POWER_STATE_MISMATCH',
      details: { which: 'ap' },
    });
    // Still usable.
    const d = r.session.setApPowerState(0x10);
    await r.iop.next();
    r.iop.post(0, AP_ACK(0x10));
    await d;
    expect(r.session.apPowerState).toBe(0x10);
  });

  it('idle keeps the handshake; wake from idle needs no HELLO', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    const idle = r.session.idle();
    expect(hex((await r.iop.next()).msg)).toBe('0x00b0000000000201');
    r.iop.post(0, AP_ACK(0x201));
    expect(hex((await r.iop.next()).msg)).toBe('0x0060000000000201');
    r.iop.post(0, IOP_ACK(0x201));
    await idle;
    expect(r.session.state.handshake).toBe('done');
    const wake = r.session.wake();
    expect(hex((await r.iop.next()).msg)).toBe('0x0060000000000220');
    r.iop.post(0, IOP_ACK(0x20));
    expect(hex((await r.iop.next()).msg)).toBe('0x00b0000000000020');
    r.iop.post(0, AP_ACK(0x20));
    await wake;
    expect(r.session.running).toBe(true);
    expect(r.session.startedEndpoints).toEqual([1, 2, 3, 4, 8]);
  });

  it('boot() after idle does what wake() does (0x220, no HELLO)', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    const idle = r.session.idle();
    await r.iop.next();
    r.iop.post(0, AP_ACK(0x201));
    await r.iop.next();
    r.iop.post(0, IOP_ACK(0x201));
    await idle;
    const boot = r.session.boot();
    expect(hex((await r.iop.next()).msg)).toBe('0x0060000000000220');
    r.iop.post(0, IOP_ACK(0x20));
    expect(hex((await r.iop.next()).msg)).toBe('0x00b0000000000020');
    r.iop.post(0, AP_ACK(0x20));
    await boot;
    expect(r.session.running).toBe(true);
  });

  it('wake from idle when the firmware restarts instead (HELLO): the full handshake runs', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    const idle = r.session.idle();
    await r.iop.next();
    r.iop.post(0, AP_ACK(0x201));
    await r.iop.next();
    r.iop.post(0, IOP_ACK(0x201));
    await idle;
    const wake = r.session.wake();
    await r.iop.next();
    r.iop.post(0, HELLO(11, 12));
    expect(hex((await r.iop.next()).msg)).toBe('0x00200000000c000c');
    r.iop.post(0, EPMAP(0, 0x6, true));
    expect(hex((await r.iop.next()).msg)).toBe('0x0088000000000000');
    r.iop.post(0, IOP_ACK(0x20));
    const rest = [await r.iop.next(), await r.iop.next(), await r.iop.next()].map((m) =>
      hex(m.msg),
    );
    expect(rest).toEqual(['0x0050000100000002', '0x0050000200000002', '0x00b0000000000020']);
    r.iop.post(0, AP_ACK(0x20));
    await wake;
    expect(r.session.discoveredEndpoints).toEqual([1, 2]);
  });
});

describe('unknown and unexpected messages', () => {
  it('unknown management types, POWER_NAP, a stale PONG, a HELLO while running: warnings, nothing sent', async () => {
    const r = scriptedRig();
    await scriptBoot(r);
    r.iop.post(0, 0x00f0000000000000n);
    r.iop.post(0, 0x00a0000000000000n);
    r.iop.post(0, 0x0040000000000099n);
    r.iop.post(0, HELLO(11, 12));
    await r.iop.idle();
    expect(r.iop.take()).toEqual([]);
    expect(codes(r.warnings)).toEqual([
      'UNKNOWN_MESSAGE',
      'UNKNOWN_MESSAGE',
      'UNEXPECTED_MESSAGE',
      'UNEXPECTED_MESSAGE',
    ]);
    expect(r.warnings[0]?.msg).toBe(0x00f0000000000000n);
  });

  it('tracekit and unknown EP1 types are UNKNOWN_MESSAGE; nothing sent', async () => {
    const r = scriptedRig();
    await scriptBoot(r, { epmap: [EPMAP(0, 0x51e, true)] });
    r.iop.take();
    r.iop.post(0xa, 0x1234n);
    r.iop.post(1, 0x0020000000000000n);
    await r.iop.idle();
    expect(r.iop.take()).toEqual([]);
    expect(codes(r.warnings)).toEqual(['UNKNOWN_MESSAGE', 'UNKNOWN_MESSAGE']);
  });
});

describe('KDebug (§5.3)', () => {
  it('report mode: GETBUF decoded and reported, nothing sent', async () => {
    const r = scriptedRig();
    const kd: string[] = [];
    r.session.on('kdebug', (e) => kd.push(`${e.message.kind}:${e.action}`));
    await scriptBoot(r);
    r.iop.post(3, encode({ kind: 'kdebugGetBuffer', count: 0x100 }));
    await r.iop.idle();
    expect(r.iop.take()).toEqual([]);
    expect(kd).toEqual(['kdebugGetBuffer:reported']);
  });

  it('m1n1 mode: START after STARTEP 3; GETBUF served with two buffers', async () => {
    const { fakeHostMemory, identityStrategy } = await import('../../src/host/shmem/index.js');
    const memory = fakeHostMemory();
    const r = scriptedRig({
      kdebug: 'm1n1',
      strategies: { default: identityStrategy({ memory }) },
    });
    const words = await scriptBoot(r);
    expect(words).toContain('0x0050000300000002');
    const start = r.iop.received.find((m) => m.ep === 3);
    expect(start && hex(start.msg)).toBe('0x0008000000000000');
    r.iop.take();
    r.iop.post(3, encode({ kind: 'kdebugGetBuffer', count: 0x100 }));
    const b1 = decode(3, (await r.iop.next()).msg, { dir: 'ap->iop' });
    const b2 = decode(3, (await r.iop.next()).msg, { dir: 'ap->iop' });
    expect(b1.kind).toBe('kdebugBuffer1');
    expect(b2.kind).toBe('kdebugBuffer2');
    expect(memory.allocations.size).toBe(2);
    await r.session.reinit();
    expect(memory.allocations.size).toBe(0);
  });
});

describe('requests, abort, close', () => {
  async function running(): Promise<ScriptedRig> {
    const r = scriptedRig();
    await scriptBoot(r, { epmap: [EPMAP(0, 0x1e, false), EPMAP(1, 1, true)] });
    const open = r.session.openEndpoint(0x20);
    await r.iop.next();
    await open;
    return r;
  }

  it('request: TIMEOUT {step: request}; abort → ABORTED; the reply is consumed, others go to listeners', async () => {
    const r = await running();
    const h = r.session.endpoint(0x20);
    const seen: bigint[] = [];
    h.onMessage((w) => seen.push(w));
    await expect(h.request(1n, () => false, { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { step: 'request', ep: 0x20 },
    });
    const ac = new AbortController();
    const p = h.request(2n, () => true, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    const q = h.request(3n, (w) => w === 0x33n);
    r.iop.post(0x20, 0x11n);
    r.iop.post(0x20, 0x33n);
    r.iop.post(0x20, 0x22n);
    expect(await q).toBe(0x33n);
    await r.iop.idle();
    expect(seen).toEqual([0x11n, 0x22n]);
    expect(r.session.stats.deadlines).toBeLessThanOrEqual(3);
  });

  it('close: pending requests and operations reject SESSION_CLOSED', async () => {
    const r = await running();
    const q = r.session.request(0x20, 1n, () => false);
    const idle = r.session.idle();
    await r.session.close();
    await expect(q).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    await expect(idle).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    await expect(r.session.boot()).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('send rules: system endpoint for openEndpoint, not started, no CPU control', async () => {
    const r = await running();
    await expect(r.session.openEndpoint(2)).rejects.toMatchObject({ code: 'ENDPOINT_INVALID' });
    r.session.endpoint(0x20);
    await r.session.stopEndpoint(0x20);
    expect(hex((await r.iop.next()).msg)).toBe('0x0050002000000001');
    await expect(r.session.send(0x20, 1n)).rejects.toMatchObject({ code: 'ENDPOINT_NOT_STARTED' });
    await expect(r.session.resetCpu()).rejects.toMatchObject({ code: 'CPU_CONTROL_UNAVAILABLE' });
    await expect(r.session.request(0, 1n, () => true)).rejects.toMatchObject({
      code: 'ENDPOINT_INVALID',
    });
  });

  it('events: tx and rx decoded, state reasons', async () => {
    const r = scriptedRig();
    const tx: string[] = [];
    const rx: string[] = [];
    const states: string[] = [];
    r.session.on('tx', (e) => tx.push(e.message.kind));
    r.session.on('rx', (e) => rx.push(e.message.kind));
    r.session.on('state', (e) => states.push(e.reason));
    await scriptBoot(r, { epmap: [EPMAP(0, 0x2, true)] });
    expect(rx).toEqual(['hello', 'epmap', 'iopPowerStateAck', 'apPowerStateAck']);
    expect(tx).toEqual(['helloAck', 'epmapReply', 'startEndpoint', 'setApPowerState']);
    expect(states).toEqual([
      'handshake-hello',
      'handshake-epmap',
      'handshake-starting',
      'handshake-done',
      'iop-ack',
      'ap-ack',
      'boot',
    ]);
  });
});

describe('options', () => {
  it('bad options are BAD_INPUT', () => {
    const { ap } = createChannelPair();
    for (const o of [
      { maxVersion: 13 },
      { minVersion: 9 },
      { minVersion: 12, maxVersion: 11 },
      { timeoutMs: 0 },
      { systemEndpoints: [0x20] },
    ]) {
      expect(() => new RtkitSession({ transport: ap, ...o })).toThrow(/BAD_INPUT/);
    }
  });
});
