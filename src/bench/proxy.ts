/**
 * m1n1 proxy link benchmarks (docs/m1n1-link.md "Performance"), against `rtkit serve` in a child
 * process (as a Mac would be: another machine, here another core) over TCP loopback:
 *  - proxy round trips per second (REQ_PROXY NOP; and READ32 + GET_EXC_COUNT as the tooling
 *    does for every register access);
 *  - bulk memory MB/s each way (REQ_MEMWRITE / REQ_MEMREAD of 16 MiB in the host heap window),
 *    with data checksums off (USB) and on (UART).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ProxyClient } from '../m1n1/client.js';
import { ProxyOp } from '../m1n1/opcodes.js';
import { connectTcp } from '../transports/tcp.js';
import type { BenchResult } from './result.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function startServer(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', 'tcp:127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`rtkit serve did not get ready: ${out}`)),
      10_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on tcp:[^:]+:(\d+)[\s\S]*\nready\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`rtkit serve exited with ${code}: ${out}`)));
  });
  return { child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

async function roundTrips(
  client: ProxyClient,
  n: number,
  op: () => Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < 1000; i++) await op();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await op();
  return (n / (performance.now() - t0)) * 1000;
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

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const mode of ['off', 'on'] as const) {
    const iodev = mode === 'off' ? 'usb' : 'uart';
    const { child, port } = await startServer(['--profile', 'smc', '--iodev', iodev]);
    try {
      const link = await connectTcp('127.0.0.1', port);
      const client = await ProxyClient.connect(link, { baudSwitch: false });
      try {
        if (mode === 'off') {
          const n = 20_000;
          const nop = await roundTrips(client, n, () => client.proxy(ProxyOp.NOP));
          results.push({
            name: 'proxy.tcp.round-trips',
            value: nop,
            unit: 'req/s',
            note: `${n} REQ_PROXY NOP, rtkit serve in a child process`,
          });
          const heap = await client.heap();
          const addr = heap.alloc(64, 64);
          const reg = await roundTrips(client, n / 2, () => client.read32(addr));
          results.push({
            name: 'proxy.tcp.read32-checked',
            value: reg,
            unit: 'reads/s',
            note: 'READ32 + GET_EXC_COUNT (two round trips), as m1n1 tooling',
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
