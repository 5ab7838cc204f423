import { Command } from 'commander';
import { crashlogToJson, parseCrashlog, renderCrashlogText } from '../../crashlog/index.js';
import { decodeWords, summarize } from '../../protocol/index.js';
import { CliFailure, type CliIO } from '../io.js';

interface CrashlogOptions {
  json?: boolean;
  lenient?: boolean;
  coproc?: string;
}

export function crashlogCommand(io: CliIO): Command {
  return new Command('crashlog')
    .description('decode a binary RTKit crashlog buffer (as dumped from the crashlog endpoint)')
    .argument('<file>', 'the buffer, or - for stdin')
    .option('--json', 'one JSON object: header, sections, warnings (see docs/cli-json.md)')
    .option('--lenient', 'continue past an unknown header version')
    .option('--coproc <name>', 'co-processor profile for decoding mailbox-history entries')
    .addHelpText(
      'after',
      `
Examples:
  rtkit crashlog dcp-crash.bin
  rtkit crashlog dcp-crash.bin --coproc dcp --json | jq '.sections[] | .fourcc'`,
    )
    .action(async (file: string, opts: CrashlogOptions) => {
      const bytes = file === '-' ? await io.readStdin() : await io.readFile(file);
      const result = parseCrashlog(bytes, { lenient: opts.lenient === true });
      if (!result.ok)
        throw new CliFailure(`${file}: not a usable crashlog: ${result.error.message}`);
      if (opts.json) {
        io.stdout(`${JSON.stringify(crashlogToJson(result.report))}\n`);
        return;
      }
      io.stdout(
        renderCrashlogText(result.report, {
          annotate: (ep, msg, dir) =>
            summarize(
              decodeWords(ep, Number(msg >> 32n), Number(msg & 0xffffffffn), {
                dir,
                coproc: opts.coproc,
              }),
            ),
        }),
      );
    });
}
