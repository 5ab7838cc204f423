/**
 * `rtkit smc --device <tty|tcp:HOST:PORT> keys | read KEY | write KEY VALUE | info KEY`: the SMC
 * of a Mac running m1n1 (or of `rtkit serve`), driven by the unchanged host library over the
 * proxy link. The SMC is found in the device tree, powered, booted through its mailbox
 * registers, used with the SMC client, and put back to sleep (docs/m1n1-link.md).
 */

import { Command, Option } from 'commander';
import { SmcClient, type SmcKeyInfo } from '../../drivers/smc/index.js';
import type { ProxyClient } from '../../m1n1/client.js';
import type { SmcValue, SmcValueInput } from '../../protocol/smc-values.js';
import { openProxyCoprocessor, proxySram } from '../../wiring/proxy-host.js';
import { connectDevice } from '../device.js';
import { CliFailure, type CliIO, CliUsageError } from '../io.js';
import { paint } from '../style.js';

interface SmcCliOptions {
  device?: string;
  path: string;
  json?: boolean;
  timeout: string;
  leaveRunning?: boolean;
}

type Action =
  | { kind: 'keys' }
  | { kind: 'read'; key: string }
  | { kind: 'info'; key: string }
  | { kind: 'write'; key: string; value: string };

export function smcCommand(io: CliIO): Command {
  const cmd = new Command('smc')
    .description('read and write SMC keys of a Mac running m1n1 (or of `rtkit serve`)')
    .requiredOption(
      '--device <spec>',
      'the m1n1 proxy: a serial device (/dev/ttyACM0, optionally :BAUD) or tcp:HOST:PORT',
    )
    .option('--path <adt-path>', 'device-tree path of the SMC', '/arm-io/smc')
    .option('--timeout <ms>', 'reply timeout of the proxy link', '3000')
    .option('--leave-running', 'do not put the SMC back to sleep afterwards')
    .addOption(
      new Option('--json', 'JSON output: one object per line, one line per key (docs/cli-json.md)'),
    )
    .addHelpText(
      'after',
      `
Values (write KEY VALUE), typed by the key's SMC type: an integer (decimal or 0x hex) for
ui*/si*, a number for flt/ioft, true/false for flag, text for ch8*, or hex:0011aabb for the
exact bytes of any type. The options go before or after the action.

Exit codes: 0 done; 1 the device cannot be reached, or the SMC failed or refused (unknown key,
key not writable); 2 usage error (bad key, value not of the key's type). See rtkit --help.

Examples:
  rtkit serve --listen tcp:127.0.0.1:7000 --profile smc &
  rtkit smc --device tcp:127.0.0.1:7000 keys
  rtkit smc --device tcp:127.0.0.1:7000 read '#KEY'
  rtkit smc --device /dev/ttyACM0 info TB0T
  rtkit smc --device /dev/ttyACM0 write CHWA 1 --json`,
    );

  // The actions copy these when created: their help and errors go through `io`, and end in
  // runCli's exit codes instead of process.exit (program.ts sets the same on each command).
  cmd.exitOverride().configureOutput({
    writeOut: (s) => io.stdout(s),
    writeErr: (s) => io.stderr(s),
  });
  const run = (action: Action, opts: SmcCliOptions) => runSmc(io, action, opts);
  // Without an action commander would print the help and count it a success.
  cmd
    .usage('[options] <action> [args]')
    .helpCommand(true)
    .argument('[action]')
    .action((action: string | undefined) => {
      throw new CliUsageError(
        action === undefined
          ? 'rtkit smc needs an action: keys, read KEY, info KEY or write KEY VALUE'
          : `unknown action ${JSON.stringify(action)}: keys, read, info or write`,
      );
    });
  cmd
    .command('keys')
    .description('list every key with typed values')
    .addHelpText('after', actionHelp('keys', ['keys', "keys --json | jq -c 'select(.writable)'"]))
    .action((_o, c: Command) => run({ kind: 'keys' }, c.optsWithGlobals()));
  cmd
    .command('read')
    .argument('<key>', 'four-character key')
    .description('read one key')
    .addHelpText('after', actionHelp('read', ["read '#KEY'", 'read TB0T --json']))
    .action((key: string, _o, c: Command) =>
      run({ kind: 'read', key: fourcc(key) }, c.optsWithGlobals()),
    );
  cmd
    .command('info')
    .argument('<key>', 'four-character key')
    .description('type, size and flags of one key')
    .addHelpText('after', actionHelp('info', ['info TB0T', 'info CH0C --json']))
    .action((key: string, _o, c: Command) =>
      run({ kind: 'info', key: fourcc(key) }, c.optsWithGlobals()),
    );
  cmd
    .command('write')
    .argument('<key>', 'four-character key')
    .argument('<value>', 'the value, typed by the key (see rtkit smc --help)')
    .description('write one key, then read it back')
    .addHelpText('after', actionHelp('write', ['write CH0C 1', 'write CH0C hex:00 --json']))
    .action((key: string, value: string, _o, c: Command) =>
      run({ kind: 'write', key: fourcc(key), value }, c.optsWithGlobals()),
    );
  return cmd;
}

/** Help after an action's options: examples with the device, and where the rest is. */
function actionHelp(action: string, examples: readonly string[]): string {
  const lines = examples.map((e) => `  rtkit smc --device tcp:127.0.0.1:7000 ${e}`);
  return `
The device options (--device, --path, --timeout, --leave-running, --json) are rtkit smc's: see
rtkit smc --help. Exit codes: rtkit --help.

Examples (${action}):
${lines.join('\n')}`;
}

function fourcc(key: string): string {
  if (!/^[\x20-\x7e]{4}$/.test(key))
    throw new CliUsageError(`an SMC key is four ASCII characters, got ${JSON.stringify(key)}`);
  return key;
}

async function runSmc(io: CliIO, action: Action, opts: SmcCliOptions): Promise<void> {
  const timeoutMs = Number(opts.timeout);
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    throw new CliUsageError(`--timeout must be a positive integer (ms), got ${opts.timeout}`);
  }
  if (!opts.device) throw new CliUsageError('--device is required');
  const client = await connectDevice(opts.device, { timeoutMs });
  try {
    await withSmc(client, opts, async (smc) => {
      switch (action.kind) {
        case 'keys':
          await listKeys(io, smc, opts);
          break;
        case 'read': {
          const info = await smc.getKeyInfo(action.key);
          const value = await smc.read(action.key);
          printValue(io, opts, action.key, info, value);
          break;
        }
        case 'info': {
          const info = await smc.getKeyInfo(action.key);
          if (opts.json) io.stdout(`${JSON.stringify(infoJson(action.key, info))}\n`);
          else io.stdout(`${action.key}  ${describeInfo(info)}\n`);
          break;
        }
        case 'write': {
          const info = await smc.getKeyInfo(action.key);
          if (!info.writable)
            throw new CliFailure(
              `${action.key} is not writable (flags 0x${info.flags.toString(16)})`,
            );
          const value = parseValue(action.value, info);
          await smc.write(action.key, value);
          const back = await smc.read(action.key);
          printValue(io, opts, action.key, info, back);
          break;
        }
      }
    });
  } finally {
    await client.close();
  }
}

async function withSmc(
  client: ProxyClient,
  opts: SmcCliOptions,
  body: (smc: SmcClient) => Promise<void>,
): Promise<void> {
  const cp = await openProxyCoprocessor(client, { path: opts.path, coproc: 'smc' });
  const sram = cp.info.sram;
  if (!sram) {
    await cp.close();
    throw new CliFailure(`${opts.path} has no SRAM window in the device tree (reg[1])`);
  }
  try {
    await cp.start();
    try {
      const handle = await cp.session.openEndpoint(0x20);
      const smc = await SmcClient.open(handle, { sram: proxySram(client, sram) });
      try {
        await body(smc);
      } finally {
        await smc.close();
      }
    } finally {
      // Put it back to sleep even after a failed command, so the next run can wake it.
      if (!opts.leaveRunning && cp.session.state.running) await cp.session.shutdown();
    }
  } finally {
    await cp.close();
  }
}

async function listKeys(io: CliIO, smc: SmcClient, opts: SmcCliOptions): Promise<void> {
  const p = paint(io);
  const keys = await smc.listKeys();
  for (const key of keys) {
    const info = await smc.getKeyInfo(key);
    let value: SmcValue | undefined;
    let error: string | undefined;
    if (info.readable) {
      try {
        value = await smc.read(key);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    if (opts.json) {
      io.stdout(
        `${JSON.stringify({ ...infoJson(key, info), ...(value !== undefined ? { value: jsonValue(value) } : {}), ...(error ? { error } : {}) })}\n`,
      );
    } else {
      const shown =
        value !== undefined ? showValue(value) : error ? p.red(error) : p.dim('(not readable)');
      io.stdout(`${p.bold(key)}  ${p.dim(describeInfo(info))}  ${shown}\n`);
    }
    await io.drain();
  }
  if (!opts.json) io.stdout(p.dim(`${keys.length} keys\n`));
}

function printValue(
  io: CliIO,
  opts: SmcCliOptions,
  key: string,
  info: SmcKeyInfo,
  value: SmcValue,
): void {
  if (opts.json)
    io.stdout(`${JSON.stringify({ ...infoJson(key, info), value: jsonValue(value) })}\n`);
  else io.stdout(`${key} = ${showValue(value)}  (${info.type.trimEnd()}, ${info.size} bytes)\n`);
}

function infoJson(key: string, info: SmcKeyInfo) {
  return {
    key,
    type: info.type,
    size: info.size,
    flags: info.flags,
    readable: info.readable,
    writable: info.writable,
  };
}

function describeInfo(info: SmcKeyInfo): string {
  const access = `${info.readable ? 'r' : '-'}${info.writable ? 'w' : '-'}${info.functionKey ? 'f' : '-'}`;
  return `${JSON.stringify(info.type)} ${info.size}B ${access} flags=0x${info.flags.toString(16).padStart(2, '0')}`;
}

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function jsonValue(v: SmcValue): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'object') return { type: v.type, hex: hexBytes(v.bytes) };
  return v;
}

function showValue(v: SmcValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return `${v.type.trimEnd()} ${hexBytes(v.bytes)}`;
  return String(v);
}

/** The text of `write KEY VALUE`, typed by the key's SMC type. */
export function parseValue(text: string, info: SmcKeyInfo): SmcValueInput {
  if (text.startsWith('hex:')) {
    const h = text.slice(4);
    if (!/^([0-9a-fA-F]{2})*$/.test(h))
      throw new CliUsageError(`bad hex bytes ${JSON.stringify(h)}`);
    const bytes = Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
    if (bytes.length !== info.size) {
      throw new CliUsageError(`${bytes.length} bytes given, the key has ${info.size}`);
    }
    return bytes;
  }
  const type = info.type;
  if (type === 'flag') {
    if (/^(true|1)$/i.test(text)) return true;
    if (/^(false|0)$/i.test(text)) return false;
    throw new CliUsageError(`flag takes true, false, 1 or 0, got ${JSON.stringify(text)}`);
  }
  if (type === 'flt ' || type === 'ioft') {
    const n = Number(text);
    if (!Number.isFinite(n))
      throw new CliUsageError(`${type.trimEnd()} takes a number, got ${JSON.stringify(text)}`);
    return n;
  }
  if (type.startsWith('ch8')) return text;
  if (/^[us]i(8 |16|32|64)$/.test(type)) {
    if (!/^-?(0x[0-9a-fA-F]+|\d+)$/.test(text)) {
      throw new CliUsageError(`${type.trimEnd()} takes an integer, got ${JSON.stringify(text)}`);
    }
    const neg = text.startsWith('-');
    const v = BigInt(neg ? text.slice(1) : text);
    const big = neg ? -v : v;
    return type.endsWith('64') ? big : Number(big);
  }
  throw new CliUsageError(
    `type ${JSON.stringify(type)} is not interpreted: give hex:<bytes> (${info.size} bytes)`,
  );
}
