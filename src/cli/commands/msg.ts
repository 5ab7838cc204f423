import { Command, Option } from 'commander';
import { COPROCS } from '../../protocol/index.js';
import { messageRecord } from '../../trace/messages.js';
import type { MessageRecord } from '../../trace/records.js';
import { type CliIO, CliUsageError } from '../io.js';
import { parseDirArg, parseEndpointArg, parseWordArg } from '../parse-args.js';
import { paint } from '../style.js';

interface MsgOptions {
  dir?: string;
  coproc?: string;
  json?: boolean;
  crashlogArmed?: boolean;
  smcShmemPending?: boolean;
  protocolVersion?: string;
}

export function msgCommand(io: CliIO): Command {
  return new Command('msg')
    .description('decode one mailbox message')
    .argument('<ep>', 'endpoint, 0–255 (decimal or 0x hex)')
    .argument('<msg0>', 'the 64-bit message word in hex (1–16 digits, 0x optional)')
    .addOption(
      new Option('--dir <dir>', "direction: 'ap->iop' (tx) or 'iop->ap' (rx); default unknown"),
    )
    .addOption(
      new Option(
        '--coproc <name>',
        'co-processor profile for application endpoints (0x20 and up)',
      ).choices([...COPROCS]),
    )
    .option(
      '--crashlog-armed',
      'EP1: the crashlog buffer was already requested (crash notification)',
    )
    .option('--smc-shmem-pending', 'SMC: INITIALIZE was sent (next SMC word is the shmem address)')
    .option('--protocol-version <n>', 'negotiated protocol version (10 moves the app endpoints)')
    .option(
      '--json',
      'JSON output: one object, as a line of `rtkit decode --json` (docs/cli-json.md)',
    )
    .addHelpText(
      'after',
      `
Directions: 'ap->iop' (alias tx) and 'iop->ap' (alias rx); quote them in a shell. The endpoint
is decimal unless it starts with 0x. Many words at once, from a file or a pipe: rtkit decode.

Exit codes: 0 decoded (a word nobody knows decodes as "unknown" with its reason); 2 usage error
(bad endpoint, word, direction or version). See rtkit --help.

Examples:
  rtkit msg 0 0x00100000000c000b
  rtkit msg 2 5000000000002a --dir rx
  rtkit msg 0x37 0x0000003c00000202 --coproc dcp --dir 'ap->iop' --json
  rtkit msg 1 0x00103000a0000000 --dir rx --crashlog-armed    a crash notification
  printf '0 0x00100000000c000b\\n20 0x234b455900041010\\n' | rtkit decode - --coproc smc`,
    )
    .action((epArg: string, wordArg: string, opts: MsgOptions) => {
      const ep = parseEndpointArg(epArg);
      const { hi, lo } = parseWordArg(wordArg);
      const dir = parseDirArg(opts.dir);
      const version = parseVersionArg(opts.protocolVersion);
      const rec = messageRecord(ep, dir, hi, lo, {
        dir,
        coproc: opts.coproc,
        crashlogArmed: opts.crashlogArmed === true,
        smcShmemPending: opts.smcShmemPending === true,
        version,
      });
      if (opts.json) {
        io.stdout(`${JSON.stringify(rec)}\n`);
        return;
      }
      io.stdout(renderMessage(rec, io));
    });
}

/** HELLO carries versions in 16-bit fields (MINVER [15:0], MAXVER [31:16]): more is a typo. */
function parseVersionArg(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 0xffff)) {
    throw new CliUsageError(`--protocol-version must be an integer 0..65535, got ${text}`);
  }
  return n;
}

export function renderMessage(rec: MessageRecord, io: CliIO): string {
  const p = paint(io);
  const lines = [
    `${p.bold(rec.summary)}`,
    `  endpoint  ${rec.endpoint} (0x${rec.ep.toString(16).padStart(2, '0')})`,
    `  direction ${rec.dir ?? 'unknown'}`,
    `  word      ${rec.msg}`,
    `  kind      ${rec.kind}`,
  ];
  const width = Math.max(10, ...Object.keys(rec.fields).map((k) => k.length + 2));
  for (const [k, v] of Object.entries(rec.fields)) lines.push(`    ${k.padEnd(width)}${String(v)}`);
  for (const n of rec.notes ?? []) lines.push(`  ${p.yellow('note')}      ${n.code}: ${n.message}`);
  return `${lines.join('\n')}\n`;
}
