/**
 * `rtkit demo` (what `npm start` runs until the simulated SoC lands): a short tour on bundled
 * real logs. A kernel log with a real DCP crash is decoded; the crash it describes is rebuilt as
 * a binary crashlog buffer, parsed back and rendered; a boot sequence is encoded and decoded.
 */

import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import {
  buildCrashlog,
  type CrashlogInput,
  parseCrashlog,
  renderCrashlogText,
  type SectionInput,
} from '../../crashlog/index.js';
import {
  type DecodeContext,
  type Direction,
  decodeWords,
  encodeWords,
  endpointName,
  hex64,
  type Message,
  summarize,
} from '../../protocol/index.js';
import { decodeTrace } from '../../trace/decoder.js';
import type { CrashRecord } from '../../trace/records.js';
import { renderText } from '../../trace/render.js';
import { CliFailure, type CliIO } from '../io.js';
import { paint } from '../style.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);

const BOOT: [Direction, number, Message][] = [
  ['iop->ap', 0, { kind: 'hello', minVersion: 11, maxVersion: 12 }],
  ['ap->iop', 0, { kind: 'helloAck', minVersion: 12, maxVersion: 12 }],
  ['iop->ap', 0, { kind: 'epmap', bitmap: 0x51e, base: 0, last: false }],
  ['ap->iop', 0, { kind: 'epmapReply', base: 0, last: false, more: true }],
  ['iop->ap', 0, { kind: 'epmap', bitmap: 1, base: 1, last: true }],
  ['ap->iop', 0, { kind: 'epmapReply', base: 1, last: true, more: false }],
  ['ap->iop', 0, { kind: 'startEndpoint', endpoint: 1 }],
  ['ap->iop', 0, { kind: 'startEndpoint', endpoint: 2 }],
  ['iop->ap', 1, { kind: 'crashlogBufferRequest', size: 1, iova: 0 }],
  ['ap->iop', 1, { kind: 'crashlogBufferReply', size: 1, iova: 0x8_0000_4000 }],
  ['iop->ap', 2, { kind: 'syslogInit', entryCount: 64, messageSize: 0x80 }],
  ['iop->ap', 0, { kind: 'iopPowerStateAck', state: 0x20 }],
  ['ap->iop', 0, { kind: 'setApPowerState', state: 0x20 }],
  ['iop->ap', 0, { kind: 'apPowerStateAck', state: 0x20 }],
  ['ap->iop', 0, { kind: 'startEndpoint', endpoint: 0x20 }],
  ['ap->iop', 0x20, { kind: 'smcInitialize', id: 0 }],
  ['iop->ap', 0x20, { kind: 'smcShmemAddress', address: 0x23_fe00_0000 }],
  ['ap->iop', 0x20, { kind: 'smcReadKey', id: 1, size: 4, wsize: 0, key: 0x234b4559 }],
  ['iop->ap', 0x20, { kind: 'smcReply', result: 0, id: 1, size: 4, value: 0xf3080000 }],
];

export function demoCommand(io: CliIO): Command {
  return new Command('demo')
    .description(
      'a short tour: decode bundled real kernel logs and rebuild a real crash as a crashlog',
    )
    .action(async () => {
      const p = paint(io);
      const out = (s = ''): void => io.stdout(`${s}\n`);
      const heading = (s: string): void => out(`\n${p.bold(p.magenta(`== ${s}`))}`);

      heading('An SMC boot, encoded from typed values and decoded back');
      for (const [dir, ep, m] of BOOT) {
        const [hi, lo] = encodeWords(m);
        const ctx: DecodeContext = {
          dir,
          coproc: 'smc',
          smcShmemPending: m.kind === 'smcShmemAddress',
        };
        const back = decodeWords(ep, hi, lo, ctx);
        const arrow = dir === 'ap->iop' ? p.cyan('AP -> IOP') : p.green('IOP -> AP');
        out(`  ${arrow}  ${endpointName(ep).padEnd(11)} ${hex64(hi, lo)}  ${summarize(back)}`);
      }

      heading('A real DCP crash from a Linux kernel log (AsahiLinux/linux#142)');
      let text: string;
      try {
        text = await readFile(new URL('dmesg-dcp-crash-142.txt', FIXTURES), 'utf8');
      } catch {
        throw new CliFailure('the bundled fixtures are missing (test/fixtures); run from a clone');
      }
      const records = decodeTrace(text);
      for (const r of records) {
        if (r.type === 'crash' || r.type === 'message' || r.type === 'syslog')
          out(`  ${renderText(r).split('\n').join('\n  ')}`);
      }

      const crash = records.find((r): r is CrashRecord => r.type === 'crash');
      if (crash) {
        heading('The same crash rebuilt as a binary crashlog buffer, parsed and rendered');
        const bytes = buildCrashlog(crashlogFromRecord(crash));
        const parsed = parseCrashlog(bytes);
        if (!parsed.ok)
          throw new CliFailure(`demo crashlog did not parse: ${parsed.error.message}`);
        out(`  (${bytes.length} bytes, ${parsed.report.sections.length} sections)`);
        const rendered = renderCrashlogText(parsed.report, {
          annotate: (ep, msg, dir) =>
            summarize(
              decodeWords(ep, Number(msg >> 32n), Number(msg & 0xffff_ffffn), {
                dir,
                coproc: 'dcp',
              }),
            ),
        });
        out(`  ${rendered.trimEnd().split('\n').join('\n  ')}`);
      }

      heading('Next');
      out('  rtkit msg 0 0x00100000000c000b        decode one word');
      out('  rtkit decode <kernel log | trace>     decode a whole log (--json for JSON lines)');
      out('  rtkit crashlog <buffer.bin>           decode a crashlog buffer');
      out('  rtkit sim --profile smc               boot a simulated SMC with the host library');
      out('  rtkit sim --profile dcp --fault crash a crash, its crashlog, and the recovery');
    });
}

/** A crashlog that says what the kernel log said (the log lacks registers it did not print). */
export function crashlogFromRecord(c: CrashRecord): CrashlogInput {
  const big = (s: string | undefined): bigint => (s === undefined ? 0n : BigInt(s));
  const sections: SectionInput[] = [];
  for (const m of c.messages)
    sections.push({ kind: 'Cstr', id: Number(m.id), text: `${m.text}\n` });
  if (c.version) sections.push({ kind: 'Cver', version: c.version.string });
  if (c.crashTime) sections.push({ kind: 'Ctim', time: BigInt(c.crashTime) });
  for (const mb of c.mailboxes) {
    sections.push({
      kind: 'Cmbx',
      mailboxError: mb.type ?? 0,
      route: mb.index ?? 0,
      entries: mb.entries.map((e) => ({
        ep: e.ep,
        msg: BigInt(e.msg),
        timestamp: BigInt(e.timestamp),
      })),
    });
  }
  const x = c.exception;
  if (x) {
    const regs: bigint[] = [];
    for (let i = 0; i < 31; i++) regs.push(big(x.regs[`x${i}`]));
    sections.push({
      kind: 'Crg8',
      regs,
      pc: big(x.pc),
      sp: big(x.sp),
      psr: big(x.psr),
      far: big(x.far),
      esr: Number(big(x.esr) & 0xffff_ffffn),
    });
  }
  return { sections };
}
