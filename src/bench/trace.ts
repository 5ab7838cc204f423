/**
 * Trace-decoder throughput: a generated kernel log where most lines belong to other drivers
 * (the common case: a full `dmesg` or journal), a log made only of RTKit lines, and our
 * JSON-lines trace format. Input is fed in 64 KiB chunks, as a file stream would feed it.
 * Size: RTKIT_BENCH_TRACE_MB (default 64).
 */

import { TraceDecoder } from '../trace/decoder.js';
import { TraceWriter } from '../trace/jsonl.js';
import { type BenchResult, bestOf } from './result.js';

const CHUNK = 64 * 1024;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const OTHER = [
  'usb 1-1: new high-speed USB device number %d using xhci-hcd',
  'EXT4-fs (nvme0n1p5): mounted filesystem %x with ordered data mode. Quota mode: none.',
  'brcmfmac 0000:01:00.0: brcmf_c_preinit_dcmds: Firmware: BCM4387/7 wl0: Mar %d 2023 CY',
  'audit: type=1400 audit(%d.123:42): apparmor="STATUS" operation="profile_load" name="x"',
  'apple-gpio-pinctrl 39b028000.pinctrl: No cache defaults, reading back from HW',
  'wlan0: authenticate with 00:11:22:33:44:%x (local address=aa:bb:cc:dd:ee:ff)',
  'input: Apple Internal Keyboard / Trackpad as /devices/platform/soc/%x.spi/input/input2',
  'apple-dcp 231c00000.dcp: dcp_poweron() starting, counter %d',
  'macsmc-power macsmc-power: Port 1 state change (charge port: %d)',
  'systemd[1]: Started session-%d.scope - Session of user asahi.',
  'NET: Registered PF_ALG protocol family (%d)',
  'Bluetooth: hci0: BCM4387 (%x) build 0000',
];

const RTKIT = [
  'apple-dcp 231c00000.dcp: RTKit: syslog message: PPipeDCP_H13P.cpp:10468: set_run_mode_safe: no need to defer: %d -> 0',
  'macsmc-rtkit 23e400000.smc: RTKit: syslog message: aceElec.cpp:703: \tElec: Elec Cause 0x%x',
  'rtkit-helper 2a9400000.mtp: RTKit: Unknown oslog message: 4000060%x',
  'nvme-apple 393cc0000.nvme: RTKit: syslog message: apcie.c:962: power up done[%d]: PMU=Undefined, PWR=0',
];

function fill(t: string, n: number): string {
  return t.replace('%d', String(n)).replace('%x', n.toString(16));
}

function crashDump(prefix: (i: number) => string, r: () => number): string[] {
  const d = 'apple-dcp 231c00000.dcp: ';
  const lines = [
    `${d}RTKit: co-processor has crashed`,
    `${d}RTKit: Version: RTKit: RTKit-1827.120.2.debug - Client: local-ipad14dcp.release`,
    `${d}RTKit: Crash time: 1544945895`,
    `${d}RTKit: Mailbox history (type = 0, index = 1)`,
  ];
  for (let i = 0; i < 128; i++) {
    const ts = ((r() | 0x1000) >>> 0).toString(16).padStart(8, '0');
    lines.push(
      `${d}RTKit:  #${String(i).padStart(3, '0')}@${ts}: 0000000000000037 0000003c00000202`,
    );
  }
  lines.push(
    `${d}RTKit: Exception dump:`,
    `${d}  == Exception taken from EL1h ==`,
    `${d}  PSR    = 0x600012c5`,
    `${d}  PC     = 0x17eaf0`,
    `${d}  ESR    = 0xbe000000`,
    `${d}  FAR    = 0x0`,
    `${d}  SP     = 0x1234560`,
    d,
  );
  for (let i = 0; i < 28; i += 4) {
    lines.push(
      `${d}  x${String(i).padStart(2, '0')}-x${String(i + 3).padStart(2, '0')} = 0000000000000000 0000000000000001 0000000000000002 0000000000000003`,
    );
  }
  return lines.map((l, i) => prefix(i) + l);
}

/**
 * A realistic kernel log in pieces of about `chunkBytes`: 97% other drivers, 3% RTKit syslog and
 * OSLog lines, a full crash dump every ~50 000 lines. `rtkitShare` 1 makes every line RTKit.
 */
export function* kernelLogChunks(
  totalBytes: number,
  opts: { chunkBytes?: number; seed?: number; rtkitShare?: number } = {},
): Generator<string> {
  const r = rng(opts.seed ?? 1);
  const chunkBytes = opts.chunkBytes ?? 1 << 20;
  const share = Math.round((opts.rtkitShare ?? 0.03) * 1000);
  let produced = 0;
  let n = 0;
  let t = 0;
  const stamp = () => `[${(t / 1e6).toFixed(6).padStart(12)}] `;
  while (produced < totalBytes) {
    const lines: string[] = [];
    let size = 0;
    while (size < chunkBytes) {
      t += r() & 0x3ff;
      n++;
      const x = r();
      let line: string;
      if (n % 50_000 === 0) {
        const dump = crashDump(() => stamp(), r);
        for (const l of dump) {
          lines.push(l);
          size += l.length + 1;
        }
        continue;
      }
      if (x % 1000 < share) line = stamp() + fill(RTKIT[(x >>> 10) % RTKIT.length]!, x >>> 20);
      else line = stamp() + fill(OTHER[(x >>> 10) % OTHER.length]!, x >>> 20);
      lines.push(line);
      size += line.length + 1;
    }
    const s = `${lines.join('\n')}\n`;
    produced += s.length;
    yield s;
  }
}

function generate(totalBytes: number, rtkitShare?: number): string {
  const parts: string[] = [];
  const opts = rtkitShare === undefined ? {} : { rtkitShare };
  for (const c of kernelLogChunks(totalBytes, opts)) parts.push(c);
  return parts.join('');
}

function jsonlTrace(totalBytes: number): string {
  const r = rng(7);
  const out: string[] = [];
  let size = 0;
  const w = new TraceWriter(
    (l) => {
      out.push(l);
      size += l.length;
    },
    { header: { coproc: 'smc', source: 'bench' } },
  );
  const words: [number, number, number, 'ap->iop' | 'iop->ap'][] = [
    [2, 0x00500000, 0x2a, 'iop->ap'],
    [2, 0x00500000, 0x2a, 'ap->iop'],
    [0x20, 0x234b4559, 0x00041010, 'ap->iop'],
    [0x20, 0xf3080000, 0x00041000, 'iop->ap'],
    [0, 0x00b00000, 0x20, 'ap->iop'],
    [4, 0x00800000, 0, 'iop->ap'],
    [8, 0x02000000, 0x1234, 'iop->ap'],
  ];
  let t = 0;
  while (size < totalBytes) {
    const [ep, hi, lo, dir] = words[r() % words.length]!;
    t += (r() & 0xff) / 1e6;
    w.recordWords(Number(t.toFixed(6)), dir, ep, hi, lo);
  }
  return out.join('');
}

/** Decode `text` in 64 KiB chunks; returns the number of records. */
function decodeChunked(text: string): number {
  const d = new TraceDecoder();
  let n = 0;
  for (let i = 0; i < text.length; i += CHUNK) n += d.push(text.slice(i, i + CHUNK)).length;
  n += d.end().length;
  return n;
}

export function run(): BenchResult[] {
  const mb = Number(process.env['RTKIT_BENCH_TRACE_MB'] ?? 64);
  const bytes = Math.round(mb * 1024 * 1024);
  const results: BenchResult[] = [];

  const log = generate(bytes);
  let records = 0;
  const ms = bestOf(
    () => {
      records = decodeChunked(log);
    },
    3000,
    3,
  );
  results.push({
    name: 'trace.kernel-log',
    value: log.length / 1e6 / (ms / 1000),
    unit: 'MB/s',
    note: `${(log.length / 1e6).toFixed(0)} MB, 97% other drivers, ${records} records, 64 KiB chunks`,
  });

  const dense = generate(Math.min(bytes, 32 * 1024 * 1024), 1);
  let dn = 0;
  const dms = bestOf(
    () => {
      dn = decodeChunked(dense);
    },
    2000,
    3,
  );
  results.push({
    name: 'trace.kernel-log-rtkit-only',
    value: dense.length / 1e6 / (dms / 1000),
    unit: 'MB/s',
    note: `${(dense.length / 1e6).toFixed(0)} MB, every line RTKit syslog/OSLog, ${dn} records`,
  });

  const trace = jsonlTrace(Math.min(bytes, 32 * 1024 * 1024));
  let jn = 0;
  const jms = bestOf(
    () => {
      jn = decodeChunked(trace);
    },
    2000,
    3,
  );
  results.push({
    name: 'trace.jsonl',
    value: trace.length / 1e6 / (jms / 1000),
    unit: 'MB/s',
    note: `${(trace.length / 1e6).toFixed(0)} MB, ${jn} message records`,
  });
  results.push({
    name: 'trace.jsonl-messages',
    value: jn / (jms / 1000) / 1e6,
    unit: 'M msg/s',
  });
  return results;
}
