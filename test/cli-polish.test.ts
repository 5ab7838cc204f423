// The CLI as a whole: every command's help has examples and exit codes, unknown options exit 2,
// bad input exits 1 with one line and no stack, every `--json` output is JSON lines, stdin and
// stdout pipe (a reader that goes away is not an error), and the progress line of long reads
// appears only for large files on a terminal stderr, throttled and erased.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import {
  PROGRESS_INTERVAL_MS,
  PROGRESS_MIN_BYTES,
  readInput,
  startProgress,
} from '../src/cli/progress.js';
import { buildCrashlog } from '../src/crashlog/index.js';
import { cli } from './cli-harness.js';
import { captureIO } from './m1n1/serve-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'rtkit-polish-'));
const ERASE = '\r\x1b[K';
const COMMANDS = ['msg', 'decode', 'crashlog', 'sim', 'demo', 'ui', 'serve', 'smc'] as const;

function jsonLines(stdout: string): unknown[] {
  expect(stdout.endsWith('\n'), 'output ends with a newline').toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

/** Exactly one line on stderr, the CLI's, and no stack frame. */
function oneLine(stderr: string): void {
  expect(stderr).toMatch(/^rtkit: [^\n]+\n$/);
  expect(stderr).not.toMatch(/\n\s+at /);
}

interface Write {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** An in-process CliIO with terminals chosen per test and files held in memory. */
function fakeIO(
  opts: {
    stderrIsTTY?: boolean;
    stdoutIsTTY?: boolean;
    files?: Record<string, { size: number; chunks: () => Iterable<Uint8Array> }>;
    stdin?: Uint8Array;
    env?: Record<string, string>;
  } = {},
): { io: CliIO; writes: Write[]; out: () => string; err: () => string } {
  const writes: Write[] = [];
  const files = opts.files ?? {};
  const file = (p: string) => {
    const f = files[p];
    if (f === undefined) {
      throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), {
        code: 'ENOENT',
        path: p,
      });
    }
    return f;
  };
  const stdin = opts.stdin ?? new Uint8Array(0);
  const io: CliIO = {
    stdout: (text) => writes.push({ stream: 'stdout', text }),
    stderr: (text) => writes.push({ stream: 'stderr', text }),
    drain: async () => {},
    readStdin: async () => stdin,
    stdinChunks: async function* () {
      yield stdin;
    },
    readFile: async (p) => {
      const parts = [...file(p).chunks()];
      const out = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of parts) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    fileChunks: async function* (p) {
      yield* file(p).chunks();
    },
    fileSize: async (p) => files[p]?.size,
    stdoutIsTTY: opts.stdoutIsTTY === true,
    stderrIsTTY: opts.stderrIsTTY === true,
    env: opts.env ?? {},
  };
  const text = (s: Write['stream']) => () =>
    writes
      .filter((w) => w.stream === s)
      .map((w) => w.text)
      .join('');
  return { io, writes, out: text('stdout'), err: text('stderr') };
}

/**
 * At least `size` bytes of kernel log in 1 MiB chunks: mostly lines without RTKit (cheap to skip,
 * as in a real dmesg), with enough RTKit syslog lines that decode writes output as it goes.
 */
function kernelLog(size: number): { size: number; chunks: () => Iterable<Uint8Array> } {
  const rtkit = '[    0.2] nvme-apple 34bcc0000.nvme: RTKit: syslog message: cmd.c:6074: boot 42\n';
  const other =
    '[    1.0] usb 1-1: new high-speed USB device number 2 using xhci_hcd, nothing to see\n';
  const head = '[    0.1] nvme-apple 34bcc0000.nvme: RTKit: Initializing (protocol version 12)\n';
  const body = rtkit.repeat(1000);
  const text = body + other.repeat(Math.floor(((1 << 20) - body.length) / other.length));
  const first = new TextEncoder().encode(head + text);
  const chunk = new TextEncoder().encode(text);
  const count = Math.max(1, Math.ceil((size - first.length) / chunk.length) + 1);
  return {
    size: first.length + (count - 1) * chunk.length,
    chunks: function* () {
      yield first;
      for (let i = 1; i < count; i++) yield chunk;
    },
  };
}

/** Stderr without the progress line's draws and erases (each one write starting with `\r`). */
function withoutProgress(writes: readonly Write[]): string {
  return writes
    .filter((w) => w.stream === 'stderr' && !w.text.startsWith(ERASE))
    .map((w) => w.text)
    .join('');
}

describe('help', () => {
  for (const cmd of COMMANDS) {
    it(`rtkit ${cmd} --help: exit 0, a description, examples`, async () => {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Usage: rtkit ${cmd} `));
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toMatch(/\n\n\S.+\n/);
    });
  }

  for (const cmd of COMMANDS) {
    it(`rtkit ${cmd} --help names its exit codes`, async () => {
      const r = await cli([cmd, '--help']);
      expect(r.stdout).toMatch(/Exit codes: 0 /);
      expect(r.stdout).toMatch(/ 2 usage error/);
    });
  }

  for (const action of ['keys', 'read', 'info', 'write']) {
    it(`rtkit smc ${action} --help: examples, and where the options and exit codes are`, async () => {
      const r = await cli(['smc', action, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples (');
      expect(r.stdout).toContain(`rtkit smc --device tcp:127.0.0.1:7000 ${action}`);
      expect(r.stdout).toContain('rtkit smc --help');
      expect(r.stdout).toContain('Exit codes: rtkit --help');
    });
  }

  it('rtkit --help and rtkit help <cmd> exit 0; the top level lists every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^ {2}${cmd} `, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 bad input or failed operation, 2 usage');
    const viaHelp = await cli(['help', 'decode']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe((await cli(['decode', '--help'])).stdout);
  });

  it('the --json options point to docs/cli-json.md', async () => {
    for (const cmd of ['msg', 'decode', 'crashlog', 'serve', 'smc']) {
      const r = await cli([cmd, '--help']);
      expect(r.stdout, cmd).toMatch(/--json +JSON output: [\s\S]*docs\/cli-json\.md/);
    }
  });
});

describe('usage errors exit 2', () => {
  // Required options first: commander reports a missing one before an unknown one.
  const required: Partial<Record<(typeof COMMANDS)[number], string[]>> = {
    sim: ['--profile', 'smc'],
    smc: ['--device', 'tcp:127.0.0.1:1', 'keys'],
  };
  for (const cmd of COMMANDS) {
    it(`rtkit ${cmd} --no-such-option`, async () => {
      const r = await cli([cmd, ...(required[cmd] ?? []), '--no-such-option']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/unknown option '--no-such-option'/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('bad values of options', async () => {
    for (const args of [
      ['msg', '0', '1', '--protocol-version', 'ten'],
      ['msg', '0', '1', '--protocol-version', '65536'],
      ['crashlog', '-', '--coproc', 'nope'],
      ['decode', '-', '--format', 'xml'],
      ['serve', '--listen', 'localhost:7000'],
      ['serve', '--profile', 'smc', '--fault', 'smc=no-such-clause'],
      ['serve', '--seed', '-5'],
      ['smc', '--device', 'tcp:127.0.0.1:1', 'read', 'TOOLONG'],
      ['smc', '--device', 'tcp:127.0.0.1:1', '--timeout', '0', 'keys'],
      ['smc', '--device', 'tcp:127.0.0.1:1'],
      ['smc', '--device', 'tcp:127.0.0.1:1', 'list'],
      ['smc', '--device', 'tcp:127.0.0.1:1', 'read'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });
});

describe('bad input exits 1 with one line on stderr', () => {
  const notCrashlog = join(tmp, 'not-a-crashlog.bin');
  writeFileSync(notCrashlog, 'no CLHE magic in here, just text that is long enough\n');
  const junk = join(tmp, 'junk.bin');
  writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff)));
  const missing = join(tmp, 'missing.log');

  const cases: [string, string[], string, RegExp][] = [
    ['decode: missing file', ['decode', missing], '', /missing\.log: no such file/],
    ['decode: a directory', ['decode', tmp], '', new RegExp(`${tmp}: is a directory`)],
    ['decode: binary data', ['decode', junk], '', /UNKNOWN_FORMAT/],
    ['decode: binary data on stdin', ['decode', '-'], '\x00\x01\x02\xff'.repeat(512), /UNKNOWN/],
    ['crashlog: missing file', ['crashlog', missing], '', /missing\.log: no such file/],
    ['crashlog: a directory', ['crashlog', tmp], '', new RegExp(`${tmp}: is a directory`)],
    ['crashlog: not a crashlog', ['crashlog', notCrashlog], '', /CRASHLOG_BAD_MAGIC/],
    ['crashlog: empty stdin', ['crashlog', '-'], '', /-: not a usable crashlog/],
    ['ui: missing file', ['ui', missing], '', /missing\.log: no such file/],
    ['smc: nobody listening', ['smc', '--device', 'tcp:127.0.0.1:1', 'keys'], '', /cannot open/],
  ];
  for (const [name, args, stdin, why] of cases) {
    it(name, async () => {
      const r = await cli(args, stdin);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      oneLine(r.stderr);
      expect(r.stderr).toMatch(why);
    });
  }

  describe('serve: the address is taken', () => {
    let taken: Server;
    let port = 0;
    beforeAll(async () => {
      taken = createServer();
      await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
      port = (taken.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((ok) => taken.close(() => ok())));

    it('exits 1 with one line', async () => {
      const r = await cli(['serve', '--listen', `tcp:127.0.0.1:${port}`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      oneLine(r.stderr);
      expect(r.stderr).toMatch(/cannot listen on tcp:127\.0\.0\.1:\d+/);
    });
  });
});

describe('--json is JSON lines for every command with output', () => {
  const crash = join(tmp, 'crash.bin');
  writeFileSync(
    crash,
    buildCrashlog({
      sections: [
        { kind: 'Cstr', id: 0, text: 'boom\n' },
        { kind: 'Cmbx', entries: [{ ep: 0x37, msg: 0x0000003c00000202n, timestamp: 0x1n }] },
      ],
    }),
  );

  it('msg: one object', async () => {
    const r = await cli(['msg', '0', '0x00100000000c000b', '--json']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([expect.objectContaining({ kind: 'hello' })]);
  });

  it('decode: one object per record, from stdin', async () => {
    const r = await cli(['decode', '-', '--json'], '0 0x00100000000c000b\n2 0x005000000000002a\n');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([
      expect.objectContaining({ type: 'message', kind: 'hello' }),
      expect.objectContaining({ type: 'message', kind: 'syslogLog' }),
    ]);
  });

  it('crashlog: one object, from a file and from stdin alike', async () => {
    const r = await cli(['crashlog', crash, '--json']);
    expect(r.code).toBe(0);
    const [obj] = jsonLines(r.stdout) as [Record<string, unknown>];
    expect(Object.keys(obj)).toEqual(expect.arrayContaining(['header', 'sections', 'warnings']));
    const bytes = await readFile(crash);
    const { io, out } = fakeIO({ stdin: new Uint8Array(bytes) });
    expect(await runCli(['crashlog', '-', '--json'], io)).toBe(0);
    expect(out()).toBe(r.stdout);
  });

  it('sim: records then a summary', async () => {
    const r = await cli(['sim', '--profile', 'generic', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout) as { type: string }[];
    expect(lines.at(-1)).toMatchObject({ type: 'summary', ok: true });
  });

  it('demo: the feed, one event per line', async () => {
    const r = await cli(['demo', '--no-ui', '--json']);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout) as { type: string }[];
    expect(lines.length).toBeGreaterThan(100);
    for (const l of lines) expect(typeof l.type).toBe('string');
  });

  describe('serve and smc', () => {
    const stop = new AbortController();
    const serve = captureIO(stop.signal);
    let exit: Promise<number>;
    let device = '';
    beforeAll(async () => {
      exit = runCli(['serve', '--json', '--profile', 'smc,generic'], serve.io);
      const deadline = Date.now() + 10_000;
      while (!serve.out().includes('{"ready":true}\n')) {
        const early = await Promise.race([exit, new Promise((r) => setTimeout(r, 10, 'wait'))]);
        if (early !== 'wait') throw new Error(`rtkit serve exited: ${serve.out()}${serve.err()}`);
        if (Date.now() > deadline) throw new Error(`not ready: ${serve.out()}${serve.err()}`);
      }
      const first = jsonLines(serve.out())[0] as { listening: string };
      device = first.listening;
    });
    afterAll(async () => {
      stop.abort();
      expect(await exit).toBe(0);
    });

    it('serve --json: the address, each co-processor, ready — one object per line', () => {
      const lines = jsonLines(serve.out());
      expect(lines).toEqual([
        {
          listening: expect.stringMatching(/^tcp:127\.0\.0\.1:\d+$/),
          host: '127.0.0.1',
          port: expect.any(Number),
        },
        { coprocessor: 'smc', ascBase: '0x23e400000' },
        { coprocessor: 'generic', ascBase: expect.stringMatching(/^0x[0-9a-f]+$/) },
        { ready: true },
      ]);
      const [addr] = lines as [{ listening: string; port: number }];
      expect(addr.listening).toBe(`tcp:127.0.0.1:${addr.port}`);
      expect(serve.err()).toBe('');
    });

    for (const action of [['keys'], ['read', '#KEY'], ['info', 'CH0C'], ['write', 'CH0C', '1']]) {
      it(`smc ${action[0]} --json`, async () => {
        const { io, out, err } = captureIO();
        const code = await runCli(['smc', '--device', device, ...action, '--json'], io);
        expect(err()).toBe('');
        expect(code).toBe(0);
        const lines = jsonLines(out()) as { key: string }[];
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) expect(l.key).toMatch(/^[\x20-\x7e]{4}$/);
      });
    }
  });
});

describe('pipes', () => {
  const bin = new URL('../dist/cli/main.js', import.meta.url).pathname;
  const big = join(tmp, 'big.txt');
  // Well past a pipe's 64 KiB, so the writer is still writing when the reader leaves.
  writeFileSync(big, '2 0x005000000000002a\n'.repeat(200_000));

  for (const json of [false, true]) {
    it(`decode big.txt${json ? ' --json' : ''} | head -1: one line, no error`, () => {
      const args = [bin, 'decode', big, ...(json ? ['--json'] : [])];
      const r = spawnSync('sh', ['-c', '"$@" | head -1', 'sh', process.execPath, ...args], {
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n')).toHaveLength(2);
      expect(r.stdout).toContain('syslog entry 42');
    });
  }

  it('stdin to stdout through a real process: crashlog -', () => {
    const bytes = buildCrashlog({ sections: [{ kind: 'Cstr', id: 0, text: 'piped\n' }] });
    const r = spawnSync(process.execPath, [bin, 'crashlog', '-'], { input: bytes });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain('piped');
  });
});

describe('progress on long reads', () => {
  describe('startProgress', () => {
    function clocked(total: number | undefined, tty = true, env: Record<string, string> = {}) {
      let t = 1000;
      const { io, err, writes } = fakeIO({ stderrIsTTY: tty, env });
      const progress = startProgress(io, { label: 'decode x.log', total, now: () => t });
      return { progress, err, writes, tick: (ms: number) => (t += ms) };
    }

    it('only for a large input on a terminal that can erase a line', () => {
      expect(clocked(PROGRESS_MIN_BYTES).progress.active).toBe(true);
      expect(clocked(PROGRESS_MIN_BYTES - 1).progress.active).toBe(false);
      expect(clocked(undefined).progress.active).toBe(false);
      expect(clocked(PROGRESS_MIN_BYTES, false).progress.active).toBe(false);
      expect(clocked(PROGRESS_MIN_BYTES, true, { TERM: 'dumb' }).progress.active).toBe(false);
      const off = clocked(PROGRESS_MIN_BYTES, false);
      off.progress.update(1);
      off.progress.clear();
      expect(off.err()).toBe('');
    });

    it('draws at once, then at most once per interval, and erases at the end', () => {
      const total = 16 * 1024 * 1024;
      const { progress, writes, tick, err } = clocked(total);
      progress.update(0);
      expect(err()).toBe(`${ERASE}decode x.log:   0% (0.0 of 16.0 MiB)`);
      // Ten seconds of updates every 10 ms.
      for (let i = 1; i <= 1000; i++) {
        tick(10);
        progress.update(Math.floor((total * i) / 1000));
      }
      const draws = writes.filter((w) => w.text !== ERASE).length;
      expect(draws).toBeLessThanOrEqual(1 + (10 * 1000) / PROGRESS_INTERVAL_MS);
      expect(draws).toBeLessThanOrEqual(10 * 10 + 1);
      expect(draws).toBeGreaterThan(10);
      expect(err()).toMatch(/100% \(16\.0 of 16\.0 MiB\)$/);
      progress.clear();
      expect(err().endsWith(`100% (16.0 of 16.0 MiB)${ERASE}`)).toBe(true);
      progress.clear();
      expect(writes.at(-1)?.text).toBe(ERASE);
      expect(writes.filter((w) => w.text === ERASE)).toHaveLength(1);
    });

    it('a redraw waits an interval after a clear, and an unchanged line is not redrawn', () => {
      const { progress, writes, tick } = clocked(PROGRESS_MIN_BYTES);
      progress.update(10);
      progress.clear();
      progress.update(20);
      expect(writes).toHaveLength(2);
      tick(PROGRESS_INTERVAL_MS);
      progress.update(20);
      expect(writes).toHaveLength(3);
      tick(PROGRESS_INTERVAL_MS);
      progress.update(21);
      expect(writes).toHaveLength(3);
    });

    it('a long label is shortened from the left to keep one terminal line', () => {
      const { io, err } = fakeIO({ stderrIsTTY: true });
      const label = `decode ${'/very/long/path'.repeat(20)}/kern.log`;
      startProgress(io, { label, total: PROGRESS_MIN_BYTES }).update(0);
      const line = err().slice(ERASE.length);
      expect(line.length).toBeLessThanOrEqual(72);
      expect(line).toMatch(/^….*\/kern\.log: {3}0%/);
    });
  });

  describe('rtkit decode', () => {
    const file = kernelLog(PROGRESS_MIN_BYTES + 1);

    it('a large file on a terminal: progress on stderr, erased, stdout untouched', async () => {
      const { io, out, err, writes } = fakeIO({ stderrIsTTY: true, files: { 'big.log': file } });
      expect(await runCli(['decode', 'big.log', '--json'], io)).toBe(0);
      expect(err()).toMatch(/^\r\x1b\[Kdecode big\.log: +\d+% \(/);
      expect(err().endsWith(ERASE)).toBe(true);
      expect(withoutProgress(writes)).toBe('');
      expect(out()).not.toMatch(/[\r\x1b]/);
      const lines = out().split('\n');
      expect(lines.at(-1)).toBe('');
      expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'init' });
      expect(JSON.parse(lines.at(-2)!)).toMatchObject({ type: 'syslog', message: 'boot 42' });
      expect(lines).toHaveLength(2 + 1000 * [...file.chunks()].length);
    });

    it('the same output without a terminal, with no progress', async () => {
      const tty = fakeIO({ stderrIsTTY: true, files: { 'big.log': file } });
      const pipe = fakeIO({ stderrIsTTY: false, files: { 'big.log': file } });
      expect(await runCli(['decode', 'big.log'], tty.io)).toBe(0);
      expect(await runCli(['decode', 'big.log'], pipe.io)).toBe(0);
      expect(pipe.err()).toBe('');
      expect(tty.err()).not.toBe('');
      expect(pipe.out()).toBe(tty.out());
    });

    it('no progress for a small file, nor for stdin (its size is unknown)', async () => {
      const { io, err, out } = fakeIO({
        stderrIsTTY: true,
        files: { 'small.log': kernelLog(1) },
        stdin: Buffer.concat([...file.chunks()]),
      });
      expect(await runCli(['decode', 'small.log'], io)).toBe(0);
      expect(await runCli(['decode', '-'], io)).toBe(0);
      expect(err()).toBe('');
      expect(out()).toContain('boot 42');
    });

    it('stdout on the same terminal: the line is erased before each piece of output', async () => {
      const { io, writes } = fakeIO({
        stderrIsTTY: true,
        stdoutIsTTY: true,
        files: { 'big.log': file },
        env: { NO_COLOR: '1' },
      });
      expect(await runCli(['decode', 'big.log'], io)).toBe(0);
      let drawn = false;
      for (const w of writes) {
        if (w.stream === 'stderr') drawn = w.text !== ERASE;
        else expect(drawn, 'a progress line is on screen before output').toBe(false);
      }
      expect(writes.some((w) => w.stream === 'stderr' && w.text !== ERASE)).toBe(true);
    });

    it('a read error mid-way: the line is erased and the error is one clean line', async () => {
      const failing = {
        size: file.size,
        chunks: function* () {
          let n = 0;
          for (const c of file.chunks()) {
            if (n++ === 3) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
            yield c;
          }
        },
      };
      const { io, err, out, writes } = fakeIO({
        stderrIsTTY: true,
        files: { 'disk.log': failing },
      });
      expect(await runCli(['decode', 'disk.log'], io)).toBe(1);
      expect(err()).toMatch(/^\r\x1b\[Kdecode disk\.log: /);
      expect(err()).toMatch(/\r\x1b\[Krtkit: disk\.log: EIO: i\/o error, read\n$/);
      oneLine(withoutProgress(writes));
      // Everything decoded from the three chunks read: the init record and 3 × 1000 syslog lines.
      expect(out().split('\n')).toHaveLength(1 + 3000 + 1);
    });

    it('binary data on a terminal: one clean line', async () => {
      const junk = new Uint8Array(1 << 20).map((_, i) => (i * 37) & 0xff);
      const { io, err, writes } = fakeIO({
        stderrIsTTY: true,
        files: {
          'junk.bin': {
            size: 9 << 20,
            chunks: function* () {
              for (let i = 0; i < 9; i++) yield junk;
            },
          },
        },
      });
      expect(await runCli(['decode', 'junk.bin'], io)).toBe(1);
      oneLine(withoutProgress(writes));
      expect(err()).toMatch(/UNKNOWN_FORMAT[^\r\n]*\n$/);
    });
  });

  describe('rtkit crashlog', () => {
    const log = buildCrashlog({ sections: [{ kind: 'Cstr', id: 0, text: 'large\n' }] });
    // A crashlog at the start of a large buffer, the rest zero (a buffer dumped whole).
    const size = PROGRESS_MIN_BYTES + 4096;
    const files = {
      'crash.bin': {
        size,
        chunks: function* () {
          const chunk = new Uint8Array(1 << 16);
          for (let at = 0; at < size; at += chunk.length) {
            const c = chunk.slice(0, Math.min(chunk.length, size - at));
            if (at === 0) c.set(log);
            yield c;
          }
        },
      },
    };

    it('progress while a large buffer is read, only on a terminal; same output', async () => {
      const tty = fakeIO({ stderrIsTTY: true, files });
      const pipe = fakeIO({ files });
      expect(await runCli(['crashlog', 'crash.bin', '--json'], tty.io)).toBe(0);
      expect(await runCli(['crashlog', 'crash.bin', '--json'], pipe.io)).toBe(0);
      expect(tty.err()).toMatch(/^\r\x1b\[Kcrashlog crash\.bin: +\d+% /);
      expect(tty.err().endsWith(ERASE)).toBe(true);
      expect(withoutProgress(tty.writes)).toBe('');
      expect(pipe.err()).toBe('');
      expect(tty.out()).toBe(pipe.out());
      expect(JSON.stringify(jsonLines(tty.out()))).toContain('large');
    });
  });

  describe('readInput', () => {
    it('returns the whole file, chunked or not, and stdin for -', async () => {
      const file = kernelLog(PROGRESS_MIN_BYTES);
      const tty = fakeIO({ stderrIsTTY: true, files: { f: file }, stdin: Uint8Array.of(7) });
      const pipe = fakeIO({ files: { f: file } });
      const a = await readInput(tty.io, 'f', 'read f');
      const b = await readInput(pipe.io, 'f', 'read f');
      expect(a.length).toBe(file.size);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      expect(tty.err()).not.toBe('');
      expect(await readInput(tty.io, '-', 'read stdin')).toEqual(Uint8Array.of(7));
    });

    it('names the file in a file-system error that came without a path', async () => {
      const io = captureIO().io;
      const err = await readInput(io, tmp, 'read').catch((e: NodeJS.ErrnoException) => e);
      expect(err).toMatchObject({ code: 'EISDIR', path: tmp });
      expect((await stat(tmp)).isDirectory()).toBe(true);
    });
  });
});
