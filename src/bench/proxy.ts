/**
 * m1n1 proxy link benchmarks (docs/m1n1-link.md "Performance"), against `rtkit serve` in a child
 * process (as a Mac would be: another machine, here another core) over TCP loopback:
 *  - proxy round trips per second (REQ_PROXY NOP; and READ32 + GET_EXC_COUNT as the tooling
 *    does for every register access);
 *  - bulk memory MB/s each way (REQ_MEMWRITE / REQ_MEMREAD of 16 MiB in the host heap window),
 *    with data checksums off (USB) and on (UART);
 *  - the floor under the round trips: the same 64-byte request / 36-byte reply ping-pong between
 *    two Node processes over TCP loopback with no proxy code at all. A round trip is two process
 *    wake-ups, and what they cost depends on the machine, not on us: on the 2-vCPU development VM
 *    a bare round trip takes ~27 µs when the scheduler keeps both processes on one vCPU and
 *    ~100 µs when it puts them on two (each wake-up then brings a halted vCPU back), so the
 *    round-trip figures jump between two levels from run to run; compare them with this floor,
 *    measured the same way in the same run.
 *
 * Round-trip figures are the median of ROUNDS rounds, so one round disturbed by another job
 * does not decide the figure.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ProxyClient } from '../m1n1/client.js';
import { ProxyOp } from '../m1n1/opcodes.js';
import { connectTcp } from '../transports/tcp.js';
import type { BenchResult } from './result.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const ROUNDS = 3;
/** Round trips per round (the READ32 figure does half as many checked reads, 2 round trips each). */
const ROUND_TRIPS = 20_000;

/**
 * A bare echo server for the floor figure: answers every 64-byte request with 36 bytes, as the
 * proxy does, with nothing else in between.
 */
const ECHO_SERVER = `
const net = require('node:net');
const reply = Buffer.alloc(36);
const server = net.createServer({ noDelay: true }, (socket) => {
  let held = 0;
  socket.on('data', (chunk) => {
    held += chunk.length;
    for (; held >= 64; held -= 64) socket.write(reply);
  });
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startChild(
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not get ready: ${out}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${out}`)));
  });
  return { child, port };
}

/** Node-to-Node TCP ping-pong, 64 bytes out, 36 back, one at a time: round trips per second. */
async function rawRoundTrips(n: number): Promise<number> {
  const { child, port } = await startChild(['-e', ECHO_SERVER], /port (\d+)\n/);
  try {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const request = Buffer.alloc(64);
    let wake: () => void = () => {};
    let held = 0;
    socket.on('data', (chunk: Buffer) => {
      held += chunk.length;
      if (held >= 36) {
        held -= 36;
        wake();
      }
    });
    const once = (): Promise<void> =>
      new Promise<void>((resolve) => {
        wake = resolve;
        socket.write(request);
      });
    const rates: number[] = [];
    for (let i = 0; i < 1000; i++) await once();
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await once();
      rates.push((n / (performance.now() - t0)) * 1000);
    }
    socket.destroy();
    return median(rates);
  } finally {
    await stop(child);
  }
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return startChild(
    [CLI, 'serve', '--listen', 'tcp:127.0.0.1:0', ...args],
    /listening on tcp:[^:]+:(\d+)[\s\S]*\nready\n/,
  );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** Operations per second, `op` awaited `n` times a round: the median round. */
async function perSecond(n: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 1000; i++) await op();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await op();
    rates.push((n / (performance.now() - t0)) * 1000);
  }
  return median(rates);
}

async function bulk(client: ProxyClient, mib: number): Promise<{ write: number; read: number }> {
  const heap = await client.heap();
  const size = mib << 20;
  const addr = heap.alloc(size, 0x4000);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = i & 0xff;
  await client.memWrite(addr, data.subarray(0, 1 << 20));
  let t0 = performance.now();
  await client.memWrite(addr, data);
  const write = mib / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const back = await client.memRead(addr, size);
  const read = mib / ((performance.now() - t0) / 1000);
  if (back.length !== size || back[4096] !== data[4096]) throw new Error('bulk read-back differs');
  heap.free(addr);
  return { write: write * 1.048576, read: read * 1.048576 };
}

/** Pin every thread of `pid` to `cpus` (Linux `taskset`); false where that is not possible. */
function pin(pid: number, cpus: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * The same NOP round trips with the placement fixed, because on a small VM the scheduler's choice
 * (both processes on one CPU, or one each) changes the figure more than any code does.
 */
async function pinnedRoundTrips(): Promise<BenchResult[]> {
  const cpus = availableParallelism();
  if (cpus < 2) return [];
  const all = `0-${cpus - 1}`;
  const out: BenchResult[] = [];
  for (const [name, serverCpu] of [
    ['one-cpu', '0'],
    ['two-cpus', '1'],
  ] as const) {
    const { child, port } = await startServer(['--profile', 'smc', '--iodev', 'usb']);
    try {
      if (!pin(process.pid, '0') || child.pid === undefined || !pin(child.pid, serverCpu)) {
        return out;
      }
      const client = await ProxyClient.connect(await connectTcp('127.0.0.1', port), {
        baudSwitch: false,
      });
      try {
        out.push({
          name: `proxy.tcp.round-trips.${name}`,
          value: await perSecond(ROUND_TRIPS, () => client.proxy(ProxyOp.NOP)),
          unit: 'req/s',
          note: `REQ_PROXY NOP, client on CPU 0, rtkit serve on CPU ${serverCpu} (taskset); median of ${ROUNDS} × ${ROUND_TRIPS}`,
        });
      } finally {
        await client.close();
      }
    } finally {
      pin(process.pid, all);
      await stop(child);
    }
  }
  return out;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  results.push(...(await pinnedRoundTrips()));
  for (const mode of ['off', 'on'] as const) {
    const iodev = mode === 'off' ? 'usb' : 'uart';
    const { child, port } = await startServer(['--profile', 'smc', '--iodev', iodev]);
    try {
      const link = await connectTcp('127.0.0.1', port);
      const client = await ProxyClient.connect(link, { baudSwitch: false });
      try {
        if (mode === 'off') {
          const n = ROUND_TRIPS;
          const nop = await perSecond(n, () => client.proxy(ProxyOp.NOP));
          results.push({
            name: 'proxy.tcp.round-trips',
            value: nop,
            unit: 'req/s',
            note: `REQ_PROXY NOP, rtkit serve in a child process; median of ${ROUNDS} × ${n}`,
          });
          results.push({
            name: 'proxy.tcp.raw-round-trips',
            value: await rawRoundTrips(n),
            unit: 'req/s',
            note: `the floor: bare Node TCP ping-pong of 64/36 bytes, no proxy; median of ${ROUNDS} × ${n}`,
          });
          const heap = await client.heap();
          const addr = heap.alloc(64, 64);
          const reg = await perSecond(n / 2, () => client.read32(addr));
          results.push({
            name: 'proxy.tcp.read32-checked',
            value: reg,
            unit: 'reads/s',
            note: `READ32 + GET_EXC_COUNT (two round trips), as m1n1 tooling; median of ${ROUNDS} × ${n / 2}`,
          });
        }
        const b = await bulk(client, 16);
        results.push({
          name: `proxy.tcp.memwrite.checksums-${mode}`,
          value: b.write,
          unit: 'MB/s',
          note: '16 MiB REQ_MEMWRITE',
        });
        results.push({
          name: `proxy.tcp.memread.checksums-${mode}`,
          value: b.read,
          unit: 'MB/s',
          note: '16 MiB REQ_MEMREAD',
        });
      } finally {
        await client.close();
      }
    } finally {
      await stop(child);
    }
  }
  return results;
}
