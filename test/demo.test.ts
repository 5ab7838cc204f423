// `rtkit demo` (what `npm start` runs): the scripted session of a simulated Mac, through the CLI
// with `--no-ui --json` (the feed as JSON lines) and in process (`runDemo`): the sequence of
// states, typed SMC values, the crash with its parsed crash log, recovery, shutdown, volume,
// determinism per seed, both paces giving the same session, the hub's replay, Ctrl-C.
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import type { FeedDetail } from '../src/demo/publisher.js';
import { type DemoResult, runDemo } from '../src/demo/session.js';
import type { FeedCrash, FeedEvent, FeedState } from '../src/viewer/feed.js';
import { FeedHub } from '../src/viewer/feed.js';
import { cli } from './cli-harness.js';

const COPROCS = ['smc', 'ans', 'dcp'];
const TYPES = new Set(['message', 'state', 'syslog', 'crash', 'phase']);

function events(stdout: string): FeedEvent[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as FeedEvent);
}

/** Milestones of one co-processor's states: booted, crashed, recovered, shut down. */
function milestones(evs: readonly FeedEvent[], coproc: string): string[] {
  const out: string[] = [];
  for (const e of evs) {
    if (e.type !== 'state' || e.coproc !== coproc) continue;
    const s = e.state;
    if (e.reason === 'boot' && s.running) out.push('running');
    else if (e.reason === 'crash' && s.crashed && !s.running) out.push('crashed');
    else if (e.reason === 'recovered' && s.running && !s.crashed) out.push('recovered');
    else if (e.reason === 'wake' && s.running) out.push('woken');
    else if (e.reason === 'idle' && !s.running) out.push('idle');
    else if (e.reason === 'shutdown' && s.handshake === 'none') out.push('shut down');
  }
  return out;
}

describe('rtkit demo --no-ui --json', () => {
  let first: { code: number; stdout: string; stderr: string } | undefined;
  const run = async () => {
    first ??= await cli(['demo', '--no-ui', '--json']);
    return first;
  };

  it('prints only feed events, one JSON object per line, and exits 0', async () => {
    const r = await run();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const e of events(r.stdout)) expect(TYPES.has(e.type)).toBe(true);
  });

  it('the states: each co-processor boots and runs; DCP crashes and recovers; all shut down', async () => {
    const evs = events((await run()).stdout);
    expect(milestones(evs, 'smc')).toEqual(['running', 'shut down']);
    expect(milestones(evs, 'ans')).toEqual(['running', 'idle', 'woken', 'shut down']);
    expect(milestones(evs, 'dcp')).toEqual([
      'running',
      'idle',
      'woken',
      'crashed',
      'running',
      'recovered',
      'shut down',
    ]);
    // The last word on each co-processor: shut down, nothing left running or mapped.
    for (const c of COPROCS) {
      const last = evs.filter((e): e is FeedState => e.type === 'state' && e.coproc === c).at(-1)!;
      expect(last).toMatchObject({ reason: 'shutdown', state: { running: false, buffers: [] } });
    }
    // Buffers appear with their mode and address while running.
    const dcpBuffers = evs.find(
      (e): e is FeedState =>
        e.type === 'state' && e.coproc === 'dcp' && e.state.buffers.length >= 4,
    );
    expect(dcpBuffers?.state.buffers[0]).toMatchObject({
      ep: 1,
      endpoint: 'crashlog',
      mode: 'firmware-iova',
      iova: expect.stringMatching(/^0x[0-9a-f]+$/),
      size: 0x3000,
    });
  });

  it('the crash event carries the parsed crash log of the injected fault', async () => {
    const evs = events((await run()).stdout);
    const crashes = evs.filter((e): e is FeedCrash => e.type === 'crash');
    expect(crashes).toHaveLength(1);
    const c = crashes[0]!;
    expect(c).toMatchObject({ coproc: 'dcp', msg: expect.stringMatching(/^0x[0-9a-f]{16}$/) });
    expect(c.problem).toBeUndefined();
    const fourccs = c.report!.sections.map((s) => s.fourcc);
    expect(fourccs).toEqual(expect.arrayContaining(['Cstr', 'Cver', 'Ctim', 'Crg8', 'Cmbx']));
    const cstr = c.report!.sections.find((s) => s.fourcc === 'Cstr')!;
    expect(cstr['text']).toContain('SError in IOMFB');
    // The crash notification is on the wire too, just before.
    const i = evs.indexOf(c);
    expect(
      evs
        .slice(0, i)
        .some((e) => e.type === 'message' && e.coproc === 'dcp' && e.ep === 1 && e.msg === c.msg),
    ).toBe(true);
  });

  it('SMC reads report typed values; the write reads back', async () => {
    const texts = events((await run()).stdout)
      .filter((e) => e.type === 'phase')
      .map((e) => e.text);
    expect(texts).toContain('SMC: #KEY = 60 keys');
    expect(texts).toContain('SMC: B0AV = 12604 (si16)');
    expect(texts).toContain('SMC: BMDN = "SimBattery" (ch8*)');
    expect(texts).toContain('SMC: TB0T = 30.5 (flt)');
    expect(texts).toContain('SMC: CHCE = true (flag)');
    expect(texts).toContain('SMC: write F0Tg = 3000, read back 3000 (was 2000)');
  });

  it('substantial traffic: thousands of messages from all three, syslog flowing, seq and time in order', async () => {
    const evs = events((await run()).stdout);
    const msgs = evs.filter((e) => e.type === 'message');
    expect(msgs.length).toBeGreaterThan(5000);
    for (const c of COPROCS) {
      expect(msgs.filter((m) => m.coproc === c).length).toBeGreaterThan(100);
      expect(evs.some((e) => e.type === 'syslog' && e.coproc === c)).toBe(true);
    }
    expect(msgs.map((m) => m.seq)).toEqual(msgs.map((_, i) => i));
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.t).toBeGreaterThanOrEqual(evs[i - 1]!.t);
    expect(evs.filter((e) => e.type === 'syslog').length).toBeGreaterThan(150);
  });

  it('deterministic per seed; another seed, another session', async () => {
    const a = await run();
    const b = await cli(['demo', '--no-ui', '--json', '--seed', '1']);
    expect(b.stdout).toBe(a.stdout);
    const c = await cli(['demo', '--no-ui', '--json', '--seed', '2']);
    expect(c.code).toBe(0);
    expect(c.stdout).not.toBe(a.stdout);
  });
});

describe('rtkit demo in the terminal', () => {
  it('text: the decoded session, the crash log, the summary; no colour when piped', async () => {
    const r = await cli(['demo', '--no-ui']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).not.toMatch(/\x1b\[/);
    expect(out).toContain('← smc management(0x00) 0x00100000000c000b HELLO v11..12');
    expect(out).toMatch(/→ smc user01\(0x20\) 0x[0-9a-f]{16} SMC READ_KEY 'B0AV'/);
    expect(out).toMatch(/← dcp user24\(0x37\) 0x0000000000000242 IOMFB ACK of CMD/);
    expect(out).toMatch(/ans syslog \S+: /);
    expect(out).toMatch(/dcp state crash: .*crashed/);
    expect(out).toMatch(/dcp crashed: notification 0x[0-9a-f]{16}, \d+ bytes of crash log/);
    expect(out).toContain('== Exception taken from EL1h ==');
    expect(out).toContain('SError in IOMFB::UPPipe (injected by rtkit demo)');
    expect(out).toMatch(/dcp state recovered: IOP ON, AP ON, handshake done, running/);
    expect(out).toMatch(/^ {2}result {6}ok$/m);
    expect(out).toMatch(/^ {2}violations {2}0$/m);
  });

  it('colour on a terminal (--fast keeps it quick), never with NO_COLOR', async () => {
    const tty = await cli(['demo', '--no-ui', '--fast'], '', { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/\x1b\[/);
    const plain = await runWithIo(['demo', '--no-ui', '--fast'], {
      tty: true,
      env: { NO_COLOR: '1' },
    });
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    expect(plain.stdout.replace(/^rtkit demo: .*\n/, '')).toBe(
      tty.stdout.replace(/\x1b\[[0-9;]*m/g, '').replace(/^rtkit demo: .*\n/, ''),
    );
  });

  it('with the viewer: prints its address first, serves the feed, exits when done (not a TTY)', async () => {
    const r = await cli(['demo', '--fast', '--json']);
    expect(r.code).toBe(0);
    // --json keeps stdout for events: the address goes to stderr.
    expect(r.stderr).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/\n$/);
    const t = await cli(['demo', '--fast']);
    expect(t.code).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('Ctrl-C (the interrupt signal) stops the session cleanly: exit 0, one line on stderr', async () => {
    const stop = new AbortController();
    const r = await runWithIo(['demo', '--no-ui', '--json'], {
      interrupt: stop.signal,
      // The first chunk of JSON lines (a few hundred events in): the user presses Ctrl-C.
      onStdout: () => stop.abort(new Error('SIGINT')),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('rtkit demo: stopped (Ctrl-C)\n');
    const evs = events(r.stdout);
    expect(evs.some((e) => e.type === 'phase' && e.text.startsWith('Done'))).toBe(false);
  });

  it('usage errors exit 2: bad port, --port without the viewer, bad seed', async () => {
    for (const [args, message] of [
      [['demo', '--port', 'x'], /--port must be an integer/],
      [['demo', '--port', '70000'], /--port must be an integer/],
      [['demo', '--no-ui', '--port', '8080'], /--port needs the viewer/],
      [['demo', '--seed', 'x'], /--seed must be an integer/],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('--tour: the decode tour on bundled real logs is still there', async () => {
    const r = await cli(['demo', '--tour']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('HELLO v11..12');
    expect(r.stdout).toContain('Exception taken from EL1h');
  });
});

describe('runDemo', () => {
  let fast: { result: DemoResult; seen: FeedEvent[]; details: FeedDetail[] } | undefined;
  const runFast = async () => {
    if (fast === undefined) {
      const seen: FeedEvent[] = [];
      const details: FeedDetail[] = [];
      const result = await runDemo({
        seed: 3,
        onEvent: (e, d) => {
          seen.push(e);
          if (d !== undefined) details.push(d);
        },
      });
      fast = { result, seen, details };
    }
    return fast;
  };

  it('reports typed SMC values, the write, the crash and recovery', async () => {
    const { result } = await runFast();
    expect(result).toMatchObject({
      ok: true,
      aborted: false,
      seed: 3,
      pace: 'fast',
      coprocs: ['smc', 'ans', 'dcp'],
      recovered: true,
      violations: [],
      dmaFaults: 0,
      smc: { keyCount: 60, write: { key: 'F0Tg', before: 2000, after: 3000 } },
    });
    const v = Object.fromEntries(result.smc.reads.map((r) => [r.key, r.value]));
    expect(v).toMatchObject({
      B0AV: 12604,
      B0RM: 3478,
      BMDN: 'SimBattery',
      RPlt: 'J293',
      CHCE: true,
      BAAC: '1234567',
      TB0T: 30.5,
      TG0B: 45.5,
    });
    expect(result.smc.reads.find((r) => r.key === 'B0AV')?.type).toBe('si16');
    expect(result.smc.polls).toBeGreaterThan(1000);
    expect(result.frames).toBeGreaterThan(100);
    expect(result.crashes).toHaveLength(1);
    expect(result.crashes[0]).toMatchObject({
      coproc: 'dcp',
      reason: 'SError in IOMFB::UPPipe (injected by rtkit demo)',
    });
    expect(result.messages).toBeGreaterThan(5000);
    expect(result.virtualSeconds).toBeGreaterThan(5);
  });

  it('the crash event comes with the parsed report for in-process renderers', async () => {
    const { details, seen } = await runFast();
    expect(details).toHaveLength(1);
    expect(details[0]!.report?.sections.map((s) => s.fourcc)).toContain('Crg8');
    expect(seen.filter((e) => e.type === 'crash')).toHaveLength(1);
  });

  it('publishes to a hub: a subscriber with replay sees exactly the events of onEvent', async () => {
    const hub = new FeedHub();
    const live: FeedEvent[] = [];
    hub.subscribe((e) => live.push(e));
    const direct: FeedEvent[] = [];
    await runDemo({ seed: 3, hub, onEvent: (e) => direct.push(e) });
    const replayed: FeedEvent[] = [];
    const off = hub.subscribe((e) => replayed.push(e), { replay: true });
    off();
    expect(replayed).toEqual(direct);
    expect(live).toEqual(direct);
    expect(direct).toEqual((await runFast()).seen);
  });

  it('the realtime pace runs the same session (sped up here: 1000 virtual ms per wall ms)', async () => {
    const seen: FeedEvent[] = [];
    const r = await runDemo({
      seed: 3,
      pace: 'realtime',
      rate: 1000,
      onEvent: (e) => seen.push(e),
    });
    expect(r.ok).toBe(true);
    expect(r.pace).toBe('realtime');
    expect(seen).toEqual((await runFast()).seen);
  });

  it('an abort stops it promptly, closes everything, and is not a failure', async () => {
    const stop = new AbortController();
    let messages = 0;
    const r = await runDemo({
      seed: 1,
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'message' && ++messages === 500) stop.abort(new Error('stop'));
      },
    });
    expect(r.aborted).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.failure).toBeUndefined();
    expect(r.messages).toBeLessThan(1000);
    // Already aborted: nothing runs.
    const none = await runDemo({ signal: stop.signal });
    expect(none).toMatchObject({ aborted: true, messages: 0 });
  });
});

async function runWithIo(
  args: string[],
  opts: {
    tty?: boolean;
    env?: Record<string, string>;
    interrupt?: AbortSignal;
    onStdout?: (text: string) => void;
  },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const nothing = async function* (): AsyncIterable<Uint8Array> {};
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
      opts.onStdout?.(t);
    },
    stderr: (t) => {
      stderr += t;
    },
    drain: async () => {},
    readStdin: async () => new Uint8Array(),
    stdinChunks: nothing,
    readFile: async () => new Uint8Array(),
    fileChunks: nothing,
    fileSize: async () => undefined,
    stdoutIsTTY: opts.tty === true,
    stderrIsTTY: false,
    env: opts.env ?? {},
    ...(opts.interrupt !== undefined ? { interrupt: opts.interrupt } : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}
