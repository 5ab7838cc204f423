/**
 * `rtkit serve`: a simulated Mac running m1n1, on the m1n1 proxy wire. Our client
 * (`rtkit smc --device tcp:…`) and m1n1's own Python tooling (through `--pty`, since it only
 * opens serial paths) drive its co-processors exactly as they would a real machine's
 * (docs/m1n1-server.md).
 */

import { Command, Option } from 'commander';
import { ErrorCode, isRtkitError } from '../../errors.js';
import { PROFILE_NAMES, type ProfileName } from '../../sim/profiles/index.js';
import { ProxyServer, SimulatedMac } from '../../sim/proxy/index.js';
import { bridgePtyToTcp, type PtyBridge } from '../../transports/pty.js';
import { listenTcp } from '../../transports/tcp.js';
import { CliFailure, type CliIO, CliUsageError } from '../io.js';
import { parseSeed } from './sim.js';

interface ServeOptions {
  listen: string;
  pty?: string;
  profile: string;
  iodev: 'usb' | 'uart';
  dataChecksums?: 'on' | 'off';
  seed: string;
  fault: string[];
  verbose?: boolean;
  json?: boolean;
}

export function serveCommand(io: CliIO): Command {
  return new Command('serve')
    .description('serve a simulated Mac running m1n1 on the proxy wire (TCP, optionally a pty)')
    .option(
      '--listen <tcp:HOST:PORT>',
      'where to listen (port 0 picks a free one)',
      'tcp:127.0.0.1:0',
    )
    .option('--pty <path>', 'also expose the link as a pseudo-terminal at PATH (needs socat)')
    .option(
      '--profile <names>',
      `co-processors, comma-separated (${PROFILE_NAMES.join(', ')})`,
      'smc',
    )
    .addOption(
      new Option('--iodev <kind>', 'which m1n1 link to impersonate: usb skips the baud switch')
        .choices(['usb', 'uart'])
        .default('usb'),
    )
    .addOption(
      new Option(
        '--data-checksums <mode>',
        'on: refuse to disable data checksums (as a UART); off: accept (as USB). Default by --iodev',
      ).choices(['on', 'off']),
    )
    .option('--seed <n>', 'seed of every random choice of the simulator (0..2^32-1)', '1')
    .addOption(
      new Option(
        '--fault <coproc=spec>',
        'fault injection for one co-processor (docs/sim-firmware.md); repeatable',
      )
        .argParser((v: string, acc: string[]) => [...acc, v])
        .default([], 'none'),
    )
    .option('--verbose', 'log every connection and proxy error on stderr')
    .option(
      '--json',
      'JSON output: one object per line for the address, the pty, each co-processor and ready (docs/cli-json.md)',
    )
    .addHelpText(
      'after',
      `
Prints the address it listens on, the pty, each co-processor's ASC base, then "ready"; runs
until Ctrl-C. Wait for "ready" (or {"ready":true} with --json) before connecting.

Exit codes: 0 stopped with Ctrl-C; 1 cannot listen or create the pty; 2 usage error (bad
--listen, --profile, --fault or --seed). See rtkit --help.

Examples:
  rtkit serve --listen tcp:127.0.0.1:7000 --profile smc
  rtkit smc --device tcp:127.0.0.1:7000 keys
  rtkit serve --listen tcp:127.0.0.1:7000 --pty /tmp/m1n1 --profile smc,generic --iodev uart
  M1N1DEVICE=/tmp/m1n1 python3 proxyclient/tools/shell.py     # m1n1's own tooling
  rtkit serve --json | jq -c 'select(.ready)'`,
    )
    .action((opts: ServeOptions) => serve(io, opts));
}

/** `tcp:HOST:PORT`, where (unlike a device to connect to) port 0 means any free port. */
function parseListen(text: string): { host: string; port: number } {
  const m = /^tcp:(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new CliUsageError(
      `--listen takes tcp:HOST:PORT (port 0 = any), got ${JSON.stringify(text)}`,
    );
  }
  return { host: (m[1] ?? m[2])!, port };
}

function parseProfiles(text: string): ProfileName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new CliUsageError('--profile needs at least one name');
  for (const n of names) {
    if (!(PROFILE_NAMES as readonly string[]).includes(n)) {
      throw new CliUsageError(
        `unknown profile ${JSON.stringify(n)} (known: ${PROFILE_NAMES.join(', ')})`,
      );
    }
  }
  if (new Set(names).size !== names.length) throw new CliUsageError('--profile lists a name twice');
  return names as ProfileName[];
}

function parseFaults(list: readonly string[], profiles: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of list) {
    const eq = f.indexOf('=');
    const name = eq > 0 ? f.slice(0, eq) : profiles.length === 1 ? profiles[0]! : '';
    const spec = eq > 0 ? f.slice(eq + 1) : f;
    if (!profiles.includes(name)) {
      throw new CliUsageError(
        `--fault ${JSON.stringify(f)}: say which co-processor, e.g. smc=${spec}`,
      );
    }
    out[name] = out[name] ? `${out[name]};${spec}` : spec;
  }
  return out;
}

async function serve(io: CliIO, opts: ServeOptions): Promise<void> {
  const listen = parseListen(opts.listen);
  const seed = parseSeed(opts.seed);
  const profiles = parseProfiles(opts.profile);
  const faults = parseFaults(opts.fault, profiles);

  let mac: SimulatedMac;
  try {
    mac = new SimulatedMac({ profiles, seed, faults });
  } catch (e) {
    // Profiles and seed are checked above: what the simulator still refuses is a --fault spec.
    if (isRtkitError(e, ErrorCode.BAD_INPUT)) throw new CliUsageError(e.message);
    throw new CliFailure(isRtkitError(e) ? e.message : String(e));
  }
  const log = (line: string): void => {
    if (opts.verbose) io.stderr(`${line}\n`);
  };
  const server = new ProxyServer(mac, {
    iodev: opts.iodev,
    ...(opts.dataChecksums ? { dataChecksums: opts.dataChecksums } : {}),
    log,
  });
  const tcp = await listenTcp(listen.host, listen.port, (link) => {
    log(`connection on ${link.description}`);
    server.attach(link);
  }).catch((e: unknown) => {
    throw new CliFailure(
      `cannot listen on ${opts.listen}: ${e instanceof Error ? e.message : String(e)}`,
    );
  });
  // Text is what people and test/m1n1/serve-harness.ts read; JSON is one object per line.
  const say = (text: string, json: Record<string, unknown>): void =>
    io.stdout(opts.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
  let bridge: PtyBridge | undefined;
  try {
    say(`listening on ${tcp.description}`, {
      listening: tcp.description,
      host: tcp.address.host,
      port: tcp.address.port,
    });
    if (opts.pty) {
      bridge = await bridgePtyToTcp(opts.pty, tcp.address.host, tcp.address.port);
      say(`pty ${bridge.path}`, { pty: bridge.path });
    }
    for (const cp of mac.soc.coprocessors.values()) {
      const ascBase = `0x${cp.ascBase.toString(16)}`;
      say(`  ${cp.name.padEnd(8)} ASC ${ascBase}`, { coprocessor: cp.name, ascBase });
    }
    say('ready', { ready: true });
    await waitForInterrupt(io);
  } finally {
    await bridge?.close();
    await tcp.close();
  }
}

function waitForInterrupt(io: CliIO): Promise<void> {
  const signal = io.interrupt;
  if (!signal) return Promise.resolve();
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
