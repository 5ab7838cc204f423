import { Command, Option } from 'commander';
import { COPROCS } from '../../protocol/index.js';
import { TraceDecoder } from '../../trace/decoder.js';
import type { TraceOutput } from '../../trace/records.js';
import { renderText, toJsonLine } from '../../trace/render.js';
import type { CliIO } from '../io.js';
import { startProgress, withPath } from '../progress.js';
import { paint } from '../style.js';

interface DecodeOptions {
  json?: boolean;
  format: 'auto' | 'jsonl' | 'plain' | 'kernel';
  coproc?: string;
  only?: string[];
  stats?: boolean;
}

const FLUSH_AT = 64 * 1024;

export function decodeCommand(io: CliIO): Command {
  return new Command('decode')
    .description(
      'decode a trace or a kernel log: our JSON lines, plain "<ep> <msg0>" lines, or Linux logs with RTKit output',
    )
    .argument('<file>', 'input file, or - for stdin')
    .option('--json', 'JSON output: one object per line, one line per record (docs/cli-json.md)')
    .addOption(
      new Option('--format <format>', 'input format')
        .choices(['auto', 'jsonl', 'plain', 'kernel'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--coproc <name>',
        'co-processor profile when the input does not name one',
      ).choices([...COPROCS]),
    )
    .addOption(
      new Option('--only <types...>', 'keep only these record types').choices([
        'message',
        'syslog',
        'init',
        'event',
        'crash',
        'warning',
      ]),
    )
    .option('--stats', 'print a summary of what was read on stderr at the end')
    .addHelpText(
      'after',
      `
Input formats are detected from the first lines:
  jsonl   our trace format (docs/trace-format.md)
  plain   "<ep> <msg0>" hex lines, optionally with a direction (ap->iop, iop->ap, >, <)
  kernel  dmesg / dmesg -T / journalctl output containing "RTKit:" lines

Large files show a progress line on stderr when it is a terminal.

Exit codes: 0 decoded (also when no RTKit line was found: a note on stderr); 1 unreadable
input (missing file, binary data: UNKNOWN_FORMAT); 2 usage error. See rtkit --help.

Examples:
  rtkit decode dmesg.txt
  journalctl -k -b -1 | rtkit decode - --only crash message
  rtkit decode session.jsonl --json > decoded.jsonl
  printf '0 0x00100000000c000b\\n' | rtkit decode -
  rtkit decode big.log --json | jq -c 'select(.kind == "crashNotification")'`,
    )
    .action(async (file: string, opts: DecodeOptions) => {
      const decoder = new TraceDecoder({
        format: opts.format,
        ...(opts.coproc ? { coproc: opts.coproc } : {}),
      });
      const only = opts.only ? new Set(opts.only) : undefined;
      const p = paint(io);
      const render = opts.json ? toJsonLine : (r: TraceOutput) => colourise(renderText(r), r, p);
      const stdin = file === '-';
      const size = stdin ? undefined : await withPath(file, () => io.fileSize(file));
      const progress = startProgress(io, { label: `decode ${file}`, total: size });
      // On a shared terminal the progress line would end up in the middle of the output.
      const clearBeforeOutput = progress.active && io.stdoutIsTTY;
      let read = 0;
      let buf = '';
      const flush = async (): Promise<void> => {
        if (clearBeforeOutput) progress.clear();
        io.stdout(buf);
        buf = '';
        await io.drain();
      };
      const emit = async (records: TraceOutput[]): Promise<void> => {
        for (const r of records) {
          if (only && !only.has(r.type)) continue;
          buf += `${render(r)}\n`;
        }
        if (buf.length >= FLUSH_AT) await flush();
      };
      try {
        const source = stdin ? io.stdinChunks() : io.fileChunks(file);
        await withPath(file, async () => {
          for await (const chunk of source) {
            await emit(decoder.push(chunk));
            read += chunk.length;
            progress.update(read);
          }
        });
        await emit(decoder.end());
      } finally {
        progress.clear();
        // Records decoded before a read error are output all the same, as a stream has them.
        if (buf) await flush();
      }
      const st = decoder.stats;
      const total = Object.values(st.records).reduce((a, b) => a + b, 0);
      if (total === 0) {
        io.stderr(
          `rtkit: no RTKit records in ${st.lines} lines (format: ${st.format ?? 'none'})\n`,
        );
      }
      if (opts.stats) io.stderr(`${JSON.stringify(st)}\n`);
    });
}

function colourise(line: string, r: TraceOutput, p: ReturnType<typeof paint>): string {
  switch (r.type) {
    case 'syslog':
      return p.cyan(line);
    case 'crash':
      return p.red(line);
    case 'warning':
      return p.yellow(line);
    case 'init':
    case 'event':
      return p.green(line);
    default:
      return line;
  }
}
