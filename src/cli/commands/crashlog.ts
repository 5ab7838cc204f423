import { Command, Option } from 'commander';
import { crashlogToJson, parseCrashlog, renderCrashlogText } from '../../crashlog/index.js';
import { COPROCS, decodeWords, summarize } from '../../protocol/index.js';
import { CliFailure, type CliIO } from '../io.js';
import { readInput } from '../progress.js';

interface CrashlogOptions {
  json?: boolean;
  lenient?: boolean;
  coproc?: string;
}

export function crashlogCommand(io: CliIO): Command {
  return new Command('crashlog')
    .description('decode a binary RTKit crashlog buffer (as dumped from the crashlog endpoint)')
    .argument('<file>', 'the buffer, or - for stdin')
    .option(
      '--json',
      'JSON output: one object with header, sections and warnings (docs/cli-json.md)',
    )
    .option('--lenient', 'continue past an unknown header version')
    .addOption(
      new Option(
        '--coproc <name>',
        'co-processor profile for the application endpoints of the mailbox history',
      ).choices([...COPROCS]),
    )
    .addHelpText(
      'after',
      `
Problems the parser survives (a truncated section, an unknown one) are warnings in the output.

Exit codes: 0 rendered; 1 unreadable file or not a usable crashlog (bad magic, truncated
header); 2 usage error. See rtkit --help.

Examples:
  rtkit crashlog dcp-crash.bin
  rtkit crashlog dcp-crash.bin --coproc dcp --json | jq '.sections[] | .fourcc'
  xxd -r -p crash.hex | rtkit crashlog - --lenient`,
    )
    .action(async (file: string, opts: CrashlogOptions) => {
      const bytes = await readInput(io, file, `crashlog ${file}`);
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
