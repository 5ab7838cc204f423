import { Command, Option } from 'commander';
import { COPROCS } from '../../protocol/index.js';
import { messageRecord } from '../../trace/messages.js';
import type { MessageRecord } from '../../trace/records.js';
import type { CliIO } from '../io.js';
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
      new Option('--coproc <name>', 'co-processor profile for application endpoints').choices([
        ...COPROCS,
      ]),
    )
    .option(
      '--crashlog-armed',
      'EP1: the crashlog buffer was already requested (crash notification)',
    )
    .option('--smc-shmem-pending', 'SMC: INITIALIZE was sent (next SMC word is the shmem address)')
    .option('--protocol-version <n>', 'negotiated protocol version (10 moves the app endpoints)')
    .option('--json', 'one JSON object, the same as a line of `rtkit decode --json`')
    .addHelpText(
      'after',
      `
Examples:
  rtkit msg 0 0x00100000000c000b
  rtkit msg 2 5000000000002a --dir rx
  rtkit msg 0x37 0x0000003c00000202 --coproc dcp --dir 'ap->iop' --json

Directions: 'ap->iop' (alias tx) and 'iop->ap' (alias rx); quote them in a shell.`,
    )
    .action((epArg: string, wordArg: string, opts: MsgOptions) => {
      const ep = parseEndpointArg(epArg);
      const { hi, lo } = parseWordArg(wordArg);
      const dir = parseDirArg(opts.dir);
      const rec = messageRecord(ep, dir, hi, lo, {
        dir,
        coproc: opts.coproc,
        crashlogArmed: opts.crashlogArmed === true,
        smcShmemPending: opts.smcShmemPending === true,
        version: opts.protocolVersion ? Number(opts.protocolVersion) : undefined,
      });
      if (opts.json) {
        io.stdout(`${JSON.stringify(rec)}\n`);
        return;
      }
      io.stdout(renderMessage(rec, io));
    });
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
