// Issue 3 acceptance: crashes through the registers, deterministic recordings, and the recorded
// trace decoding with `rtkit decode`'s decoder.
import { afterEach, describe, expect, it } from 'vitest';
import { parseCrashlog } from '../../src/crashlog/index.js';
import { hex64 } from '../../src/protocol/index.js';
import { SimSoc } from '../../src/sim/soc.js';
import { MiniHost } from '../../src/sim/testing/mini-host.js';
import { decodeTrace, type MessageRecord } from '../../src/trace/index.js';
import { parseTraceLine } from '../../src/trace/jsonl.js';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops) s();
  stops = [];
});

function soc(seed = 1): SimSoc {
  const s = new SimSoc({ seed });
  stops.push(s.clock.autoAdvance());
  return s;
}

function traceMessages(
  lines: string[],
  coproc: string,
): { dir: string; ep: number; msg: string }[] {
  const out: { dir: string; ep: number; msg: string }[] = [];
  for (const l of lines) {
    const p = parseTraceLine(l);
    if (p.k === 'entry' && p.entry.coproc === coproc) {
      out.push({ dir: p.entry.dir ?? '?', ep: p.entry.ep, msg: hex64(p.entry.hi, p.entry.lo) });
    }
  }
  return out;
}

describe('crash through the registers', () => {
  for (const profile of ['dcp', 'ans', 'smc', 'generic'] as const) {
    it(`${profile}: the crashlog parses to the sections written, and Cmbx is the tail of the trace`, async () => {
      const s = soc(3);
      const cp = s.add({ profile });
      const host = new MiniHost(s, cp);
      await host.boot({ ordering: 'linux' });
      await host.idle(1500);
      // m1n1's debug value on EP1 makes the firmware crash (§5.1).
      await host.send(1, { kind: 'crashTrigger', code: 0x40 });
      await host.expect((r) => r.m.kind === 'crashNotification', 1000, 'crash notification');
      expect(host.crashed).toBe(true);

      const record = cp.firmware.crashes[0]!;
      const buffer = host.buffers.get(1)!;
      const bytes = await host.readBuffer(1, buffer.bytes);
      const parsed = parseCrashlog(bytes);
      if (!parsed.ok) throw parsed.error;
      const report = parsed.report;
      expect(report.warnings).toEqual([]);
      expect(report.sections.map((x) => x.fourcc)).toEqual(
        record.input.sections.map((x) => ('fourcc' in x ? x.fourcc : x.kind)),
      );
      for (const f of ['Cver', 'Cstr', 'Ctim', 'Cmbx', 'Crg8', 'Ccst', 'Crtk', 'CasC']) {
        expect(report.sections.map((x) => x.fourcc)).toContain(f);
      }

      // Cmbx holds the firmware's real history: the tail of the recorded trace before the
      // notification, in order, with the direction in timestamp bit 0.
      const cmbx = report.sections.find((x) => x.kind === 'Cmbx');
      if (cmbx?.kind !== 'Cmbx') throw new Error('no Cmbx');
      const fromLog = cmbx.entries.map((e) => ({
        dir: e.dir,
        ep: e.ep,
        msg: `0x${e.msg.toString(16).padStart(16, '0')}`,
      }));
      const trace = traceMessages(s.traceLines(), cp.name);
      const beforeCrash = trace.slice(0, trace.length - 1);
      expect(trace.at(-1)!.ep).toBe(1);
      expect(fromLog.length).toBeGreaterThan(10);
      expect(fromLog).toEqual(beforeCrash.slice(-fromLog.length));

      // Dead until reset: further messages get no answer.
      await host.send(0, { kind: 'ping', cookie: 7, extra: 0 });
      await expect(host.expect((r) => r.m.kind === 'pong', 200)).rejects.toThrow(/timeout/);
      await host.close();
    });
  }
});

async function scriptedSession(seed: number): Promise<string[]> {
  const s = soc(seed);
  const dcp = s.add({ profile: 'dcp' });
  const smc = s.add({ profile: 'smc' });
  const h1 = new MiniHost(s, dcp);
  const h2 = new MiniHost(s, smc);
  await h1.boot({ ordering: 'linux' });
  await h2.boot({ ordering: 'm1n1' });
  await h1.idle(2000);
  await h1.send(0, { kind: 'ping', cookie: 42, extra: 0 });
  await h1.expect((r) => r.m.kind === 'pong');
  await h2.shutdown();
  await h1.idle(500);
  await h1.send(1, { kind: 'crashTrigger', code: 0x22 });
  await h1.expect((r) => r.m.kind === 'crashNotification');
  await h1.close();
  await h2.close();
  return s.traceLines();
}

describe('determinism and recording', () => {
  it('same seed and inputs: byte-identical trace; another seed differs', async () => {
    const a = await scriptedSession(5);
    const b = await scriptedSession(5);
    const c = await scriptedSession(6);
    expect(a.length).toBeGreaterThan(50);
    expect(b.join('\n')).toBe(a.join('\n'));
    expect(c.join('\n')).not.toBe(a.join('\n'));
  });

  it('the recording decodes with the trace decoder: kinds, directions, co-processors', async () => {
    const lines = await scriptedSession(5);
    const records = decodeTrace(`${lines.join('\n')}\n`);
    const messages = records.filter((r): r is MessageRecord => r.type === 'message');
    expect(messages.length).toBe(lines.length - 1);
    expect(records.filter((r) => r.type === 'warning')).toEqual([]);
    const kinds = new Set(messages.map((m) => m.kind));
    for (const k of [
      'hello',
      'helloAck',
      'epmap',
      'startEndpoint',
      'syslogLog',
      'iopPowerStateAck',
      'pong',
      'crashNotification',
    ]) {
      expect(kinds, k).toContain(k);
    }
    expect(new Set(messages.map((m) => m.coproc))).toEqual(new Set(['dcp', 'smc']));
    expect(messages.filter((m) => m.kind === 'unknown' && m.ep < 0x20)).toEqual([]);
  });
});
