// Golden test: every real log in test/fixtures (a copy of ../shared/fixtures) decodes to the values of expected.json.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceDecoder } from './decoder.js';
import type {
  CrashRecord,
  EventRecord,
  InitRecord,
  MessageRecord,
  SyslogRecord,
  TraceOutput,
} from './records.js';
import { parseRtkitVersion } from './version.js';

const DIR = join(import.meta.dirname, '../../test/fixtures');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;

interface Expected {
  rtkit_init?: { line: number; driver: string; device: string; protocol_version: number }[];
  unknown_system_endpoints?: { line: number; device: string; endpoint: number }[];
  unknown_oslog_messages?: {
    line: number;
    device: string;
    printed: string;
    msg0: string;
    oslog_type: number;
  }[];
  smc_init?: {
    line: number;
    device: string;
    key_count: number;
    first_key: { fourcc: string; u32: string };
    last_key: { fourcc: string; u32: string };
  };
  syslog?: {
    line: number;
    device?: string;
    context: string;
    message: string;
    context_length: number;
    message_length?: number;
  }[];
  crash?: {
    crashed_line: number;
    version_line: number;
    crash_time_line: number;
    exception_dump_lines: number[];
    device: string;
    version_string: string;
    rtkit_version: string;
    build: string;
    client: string;
    crash_time: number;
    crash_time_hex: string;
    exception_level: string;
    psr: string;
    psr_mode: number;
    pc: string;
    esr: string;
    esr_ec: string;
    esr_il: number;
    esr_iss: string;
  };
  mailbox_history?: {
    line: number;
    index: number;
    timestamp: string;
    endpoint: number;
    message: string;
    direction: 'iop_to_ap' | 'ap_to_iop';
    iomfb: { type: number; ack: boolean; context: number; offset: number; length: number };
  }[];
  versions?: {
    line: number;
    rtkit_version: string;
    major: number;
    minor: number;
    patch: number;
    build: string;
    client: string;
  }[];
}

const LOGS = Object.keys(expected).filter(
  (k) => k.endsWith('.txt') && (k.startsWith('dmesg-') || k.startsWith('m1n1-')),
);

function decodeFixture(name: string): TraceOutput[] {
  const d = new TraceDecoder();
  const out = d.push(readFileSync(join(DIR, name), 'utf8'));
  out.push(...d.end());
  expect(d.format).toBe('kernel');
  return out;
}

function ofType<T extends TraceOutput['type']>(
  rs: TraceOutput[],
  t: T,
): Extract<TraceOutput, { type: T }>[] {
  return rs.filter((r): r is Extract<TraceOutput, { type: T }> => r.type === t);
}

// IOMFB TYPE [3:0] by decoded kind (PROTOCOL.md §10.1).
const IOMFB_TYPE: Record<string, number> = {
  iomfbSetShmem: 0,
  iomfbInitialized: 1,
  iomfbMessage: 2,
};

describe('fixtures decode to expected.json', () => {
  it('covers every log fixture', () => {
    expect(LOGS.sort()).toEqual([
      'dmesg-dcp-crash-142.txt',
      'dmesg-dcp-syslog-truncated.txt',
      'dmesg-m1pro-nvme-syslog.txt',
      'dmesg-m2-dcp-smc-syslog.txt',
      'dmesg-m2pro-boot.txt',
      'm1n1-aop-syslog.txt',
    ]);
  });

  for (const name of LOGS) {
    describe(name, () => {
      const exp = expected[name]!;
      const rs = decodeFixture(name);

      it('is detected as a kernel log and yields no warnings', () => {
        expect(ofType(rs, 'warning')).toEqual([]);
      });

      it('rtkit_init', () => {
        const got = ofType(rs, 'init').map((r: InitRecord) => ({
          line: r.line,
          driver: r.driver,
          device: r.device,
          protocol_version: r.protocolVersion,
        }));
        expect(got).toEqual(exp.rtkit_init ?? []);
      });

      it('unknown_system_endpoints', () => {
        const got = ofType(rs, 'event')
          .filter((e: EventRecord) => e.event === 'unknown-system-endpoint')
          .map((e) => ({ line: e.line, device: e.device, endpoint: e.endpoint }));
        expect(got).toEqual(exp.unknown_system_endpoints ?? []);
      });

      it('unknown_oslog_messages (left-padded %llx, type = bits [63:56])', () => {
        const got = ofType(rs, 'message')
          .filter((m: MessageRecord) => m.origin === 'unhandled' && m.ep === 8)
          .map((m) => ({
            line: m.line,
            device: m.device,
            printed: m.source?.replace('Unknown oslog message: ', ''),
            msg0: m.msg,
            oslog_type: Number.parseInt(m.msg.slice(2, 4), 16),
          }));
        expect(got).toEqual(exp.unknown_oslog_messages ?? []);
        for (const m of ofType(rs, 'message').filter((x) => x.ep === 8)) {
          expect(m.dir).toBe('iop->ap');
          expect(m.endpoint).toBe('oslog');
          // The codec has no decoder for these types; it still reports the TYPE field.
          expect(m.kind).toBe('unknown');
          expect(m.fields['type']).toBe(Number.parseInt(m.msg.slice(2, 4), 16));
        }
      });

      it('smc_init', () => {
        const got = ofType(rs, 'event')
          .filter((e) => e.event === 'smc-initialized')
          .map((e) => ({
            line: e.line,
            device: e.device,
            key_count: e.keyCount,
            first_key: e.firstKey,
            last_key: e.lastKey,
          }));
        expect(got).toEqual(exp.smc_init ? [exp.smc_init] : []);
      });

      it('syslog context and message', () => {
        const got = ofType(rs, 'syslog').map((s: SyslogRecord) => {
          const o: Record<string, unknown> = {
            line: s.line,
            context: s.context,
            message: s.message,
            context_length: s.context.length,
            message_length: s.message.length,
          };
          if (s.device !== undefined) o['device'] = s.device;
          return o;
        });
        const want = (exp.syslog ?? []).map((e) => {
          const o: Record<string, unknown> = {
            line: e.line,
            context: e.context,
            message: e.message,
            context_length: e.context_length,
            message_length: e.message_length ?? e.message.length,
          };
          if (e.device !== undefined) o['device'] = e.device;
          return o;
        });
        expect(got).toEqual(want);
        const source = name.startsWith('m1n1') ? 'm1n1' : 'linux';
        for (const s of ofType(rs, 'syslog')) expect(s.source).toBe(source);
      });

      it('crash header', () => {
        const crashes = ofType(rs, 'crash');
        const e = exp.crash;
        if (e === undefined) {
          expect(crashes).toEqual([]);
          return;
        }
        expect(crashes).toHaveLength(1);
        const c: CrashRecord = crashes[0]!;
        expect(c.crashed).toBe(true);
        expect(c.line).toBe(e.crashed_line);
        expect(c.lines).toEqual({
          crashed: e.crashed_line,
          version: e.version_line,
          crashTime: e.crash_time_line,
          exception: e.exception_dump_lines,
        });
        expect(c.device).toBe(e.device);
        expect(c.version).toEqual({
          string: e.version_string,
          rtkitVersion: e.rtkit_version,
          major: Number(e.rtkit_version.split('.')[0]),
          minor: Number(e.rtkit_version.split('.')[1]),
          patch: Number(e.rtkit_version.split('.')[2]),
          build: e.build,
          client: e.client,
        });
        expect(c.crashTimeDecimal).toBe(String(e.crash_time));
        expect(c.crashTime).toBe(e.crash_time_hex);
        expect(c.exception).toEqual({
          el: e.exception_level,
          psr: e.psr,
          psrMode: e.psr_mode,
          pc: e.pc,
          esr: e.esr,
          esrEc: e.esr_ec,
          esrIl: e.esr_il,
          esrIss: e.esr_iss,
          esrClassName: 'SError interrupt',
          regs: {},
        });
        // The published excerpt has no `Mailbox history (...)` header: one headerless block.
        const entries = exp.mailbox_history ?? [];
        expect(c.mailboxes).toHaveLength(1);
        expect(c.mailboxes[0]!.type).toBeNull();
        expect(c.mailboxes[0]!.entryCount).toBe(entries.length);
        expect(c.mailboxes[0]!.entries).toEqual(
          entries.map((m) => ({
            index: m.index,
            timestamp: m.timestamp,
            ep: m.endpoint,
            msg: m.message,
            dir: m.direction === 'ap_to_iop' ? 'ap->iop' : 'iop->ap',
            line: m.line,
          })),
        );
        expect(c.endLine).toBe(entries.at(-1)?.line);
      });

      it('mailbox_history entries with their IOMFB decode', () => {
        const got = ofType(rs, 'message').filter((m) => m.origin === 'mailbox-history');
        const want = exp.mailbox_history ?? [];
        expect(got).toHaveLength(want.length);
        want.forEach((w, i) => {
          const m = got[i]!;
          expect(m.line).toBe(w.line);
          expect(m.index).toBe(w.index);
          expect(m.timestamp).toBe(w.timestamp);
          expect(m.ep).toBe(w.endpoint);
          expect(m.endpoint).toBe('user24');
          expect(m.msg).toBe(w.message);
          expect(m.dir).toBe(w.direction === 'ap_to_iop' ? 'ap->iop' : 'iop->ap');
          expect(m.coproc).toBe('dcp');
          expect(IOMFB_TYPE[m.kind]).toBe(w.iomfb.type);
          expect(m.fields['ack']).toBe(w.iomfb.ack);
          expect(m.fields['context']).toBe(w.iomfb.context);
          expect(Number(m.fields['offset'])).toBe(w.iomfb.offset);
          expect(Number(m.fields['length'])).toBe(w.iomfb.length);
          // The Cmbx direction agrees with the IOMFB roles: no direction complaint (§10.1).
          expect(m.notes ?? []).toEqual([]);
        });
      });
    });
  }
});

describe('rtkit-version-strings.txt', () => {
  const lines = readFileSync(join(DIR, 'rtkit-version-strings.txt'), 'utf8').split('\n');
  for (const v of expected['rtkit-version-strings.txt']!.versions!) {
    it(`line ${v.line}: ${v.rtkit_version}`, () => {
      expect(parseRtkitVersion(lines[v.line - 1]!)).toEqual({
        rtkitVersion: v.rtkit_version,
        major: v.major,
        minor: v.minor,
        patch: v.patch,
        build: v.build,
        client: v.client,
      });
    });
  }
});
