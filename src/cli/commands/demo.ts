/**
 * `rtkit demo` (what `npm start` runs): a simulated Mac with an SMC, an NVMe controller (ANS) and
 * a display co-processor (DCP), each booted and driven by the host library through its mailbox
 * registers, in a scripted session — syslog, SMC keys, polling and frames, idle and wake, a DCP
 * crash with its crash log, recovery, shutdown (src/demo/session.ts, docs/demo.md).
 *
 * ```
 *  runDemo ──► FeedPublisher ──► FeedHub ──► startViewerServer (SSE, the web viewer)
 *                            └─► onEvent ──► LiveRenderer (terminal) | JSON lines (--json)
 * ```
 *
 * `--tour` keeps the earlier decode tour on bundled real logs.
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
import type { FeedDetail } from '../../demo/publisher.js';
import { type DemoResult, runDemo } from '../../demo/session.js';
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
import { type FeedEvent, FeedHub } from '../../viewer/feed.js';
import { startViewerServer, type ViewerServer } from '../../viewer/server.js';
import { CliFailure, type CliIO, CliUsageError } from '../io.js';
import { colorEnabled, LiveRenderer, livePaint } from '../live-render.js';
import { type Paint, paint } from '../style.js';
import { parseSeed } from './sim.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);

interface DemoCliOptions {
  ui: boolean;
  port?: string;
  json?: boolean;
  seed: string;
  fast?: boolean;
  tour?: boolean;
}

/** JSON lines are written in chunks of about this many characters. */
const JSON_CHUNK = 0x10000;

export function demoCommand(io: CliIO): Command {
  return new Command('demo')
    .description(
      'a live, scripted session of a simulated Mac (SMC, NVMe, display), decoded in the terminal and served to the web viewer',
    )
    .option('--no-ui', 'do not start the web viewer')
    .option('--port <n>', 'viewer port on 127.0.0.1 (default: any free port)')
    .option('--json', 'the live feed as JSON lines on stdout (one event per line), nothing else')
    .option('--seed <n>', 'seed of every random choice of the simulator (0..2^32-1)', '1')
    .option('--fast', 'run as fast as possible (the default when stdout is not a terminal)')
    .option('--tour', 'the earlier decode tour on bundled real logs instead (needs a clone)')
    .addHelpText(
      'after',
      `
On a terminal the session runs in real time (about 11 s) so that it can be watched, here and in
the viewer; piped, with --fast or --json it runs as fast as it can. With the viewer on a terminal
the command keeps serving after the session until Ctrl-C; otherwise it exits when done.

Exit codes: 0 the session ran (also when stopped with Ctrl-C); 1 a step failed, or the simulator
recorded a protocol violation or a DMA fault; 2 usage error.

Examples:
  rtkit demo                          watch it live; open the printed viewer address
  rtkit demo --no-ui --fast           the whole session at once, in the terminal only
  rtkit demo --no-ui --json | jq -c 'select(.type == "state")'`,
    )
    .action(async (opts: DemoCliOptions) => {
      if (opts.tour) {
        await tour(io);
        return;
      }
      await live(io, opts);
    });
}

async function live(io: CliIO, opts: DemoCliOptions): Promise<void> {
  const seed = parseSeed(opts.seed);
  const port = opts.port === undefined ? undefined : parsePort(opts.port);
  if (port !== undefined && !opts.ui)
    throw new CliUsageError('--port needs the viewer (drop --no-ui)');
  const json = opts.json === true;
  const pace = opts.fast || json || !io.stdoutIsTTY ? 'fast' : 'realtime';
  // Reading it installs the SIGINT/SIGTERM handler (io.ts): only this command asks.
  const interrupt = io.interrupt;
  const p = livePaint(io);
  const say = json ? (s: string) => io.stderr(`${s}\n`) : (s: string) => io.stdout(`${s}\n`);

  const hub = opts.ui ? new FeedHub() : undefined;
  let server: ViewerServer | undefined;
  if (hub !== undefined) {
    try {
      server = await startViewerServer({ hub, ...(port !== undefined ? { port } : {}) });
    } catch (e) {
      throw new CliFailure(
        `cannot start the viewer on 127.0.0.1:${port ?? 0}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  try {
    if (server !== undefined) say(p.bold(`viewer: ${server.url}`));
    let renderer: LiveRenderer | undefined;
    let onEvent: (e: FeedEvent, d?: FeedDetail) => void;
    let flushJson = (): void => {};
    if (json) {
      let buf = '';
      flushJson = () => {
        if (buf.length > 0) io.stdout(buf);
        buf = '';
      };
      onEvent = (e) => {
        buf += `${JSON.stringify(e)}\n`;
        if (buf.length >= JSON_CHUNK) flushJson();
      };
    } else {
      const r = new LiveRenderer({ write: (s) => io.stdout(s), color: colorEnabled(io) });
      renderer = r;
      onEvent = (e, d) => r.render(e, d);
      if (pace === 'realtime') {
        r.text(
          p.dim(
            `rtkit demo: seed ${seed}, real time${server !== undefined ? '; the same session is in the viewer' : ''}; Ctrl-C stops`,
          ),
        );
      }
    }

    const result = await runDemo({
      seed,
      pace,
      onEvent,
      ...(hub !== undefined ? { hub } : {}),
      ...(interrupt !== undefined ? { signal: interrupt } : {}),
    });
    flushJson();
    if (renderer !== undefined) {
      for (const l of summary(result, p)) renderer.text(l);
      renderer.flush();
    }
    await io.drain();

    if (result.aborted) {
      io.stderr('rtkit demo: stopped (Ctrl-C)\n');
      return;
    }
    // With the viewer on a terminal, keep serving so the session can still be browsed.
    if (server !== undefined && io.stdoutIsTTY && interrupt !== undefined && !interrupt.aborted) {
      say(p.dim(`the viewer keeps serving at ${server.url} — Ctrl-C to stop`));
      await new Promise<void>((resolve) =>
        interrupt.addEventListener('abort', () => resolve(), { once: true }),
      );
    }
    const why = verdict(result);
    if (why !== undefined) throw new CliFailure(why);
  } finally {
    await server?.close();
  }
}

function parsePort(text: string): number {
  const t = text.trim();
  const n = /^\d{1,5}$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isInteger(n) || n > 65535) {
    throw new CliUsageError(`--port must be an integer 0..65535: ${text}`);
  }
  return n;
}

function verdict(r: DemoResult): string | undefined {
  if (r.failure !== undefined) return `the demo session failed: ${r.failure}`;
  const v = r.violations[0];
  if (v !== undefined) {
    return `${r.violations.length} strict-mode violation(s), the first: ${v.coproc} ${v.code}: ${v.detail}`;
  }
  if (r.dmaFaults > 0) return `${r.dmaFaults} DMA fault(s)`;
  return undefined;
}

function summary(r: DemoResult, p: Paint): string[] {
  const out = [
    '',
    p.bold(
      `summary: seed ${r.seed}, ${r.coprocs.join(' + ')}, ${r.virtualSeconds.toFixed(3)} virtual s`,
    ),
    `  messages    ${r.messages} (${r.events} feed events)`,
    `  syslog      ${r.syslogLines} lines`,
  ];
  if (r.smc.keyCount !== undefined) {
    const reads = r.smc.reads.map((x) => `${x.key} ${x.text}`).join(', ');
    out.push(`  smc         ${r.smc.keyCount} keys; ${reads}`);
  }
  if (r.smc.write !== undefined) {
    const w = r.smc.write;
    out.push(
      `              ${w.key} written: ${w.before} → ${w.after}; ${r.smc.polls} polled reads`,
    );
  }
  out.push(`  dcp         ${r.frames} IOMFB commands acknowledged`);
  for (const c of r.crashes) {
    out.push(
      `  crash       ${c.coproc} at ${c.t.toFixed(6)} s: ${c.reason ?? c.problem ?? 'no crash log'} (${c.sections.length} sections)${r.recovered ? ', recovered' : ''}`,
    );
  }
  out.push(`  warnings    ${r.warnings}`);
  out.push(`  violations  ${r.violations.length}`);
  out.push(`  DMA faults  ${r.dmaFaults}`);
  const why = r.aborted ? 'stopped' : verdict(r);
  out.push(why === undefined ? p.green('  result      ok') : p.red(`  result      ${why}`));
  return out;
}

/** The tour's SMC boot, as typed values. */
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

/** The decode tour on bundled real logs (`rtkit demo --tour`; needs a clone: test/fixtures). */
async function tour(io: CliIO): Promise<void> {
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
    if (!parsed.ok) throw new CliFailure(`demo crashlog did not parse: ${parsed.error.message}`);
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
