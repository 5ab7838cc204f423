/**
 * Mailbox throughput in process: messages per second through the register interface (host
 * driver → asyncMmio → MmioBus → SimAsc → firmware port, and back) and through the channel pair.
 * Each figure is the best of several timed rounds.
 */

import { VirtualClock } from '../clock.js';
import { AscMailboxDriver } from '../mailbox/asc-driver.js';
import { createChannelPair } from '../mailbox/channel.js';
import { asyncMmio, MmioBus } from '../sim/bus.js';
import { SimAsc } from '../sim/mailbox/asc.js';
import type { BenchResult } from './result.js';

const BASE = 0x2_3e40_0000;
const N = 200_000;
const ROUNDS = 5;

function rig(recv1: 'plain' | 'realistic' = 'plain') {
  const clock = new VirtualClock();
  const bus = new MmioBus();
  const asc = new SimAsc({ base: BASE, recv1 });
  bus.map(asc.base, asc.size, asc, 'asc');
  const driver = new AscMailboxDriver({ mmio: asyncMmio(bus), base: asc.mailboxBase, clock });
  return { asc, driver };
}

async function best(round: () => Promise<number>): Promise<number> {
  let bestMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await round();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return bestMs;
}

/** AP→IOP: `driver.send` per message; the firmware takes each one as it arrives. */
async function apToIop(): Promise<number> {
  const { asc, driver } = rig();
  let got = 0;
  asc.onInbound(() => {
    while (asc.receive() !== undefined) got++;
  });
  const ms = await best(async () => {
    got = 0;
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < N; i++) last = driver.send(0x20, BigInt(i));
    await last;
    if (got !== N) throw new Error(`AP→IOP: ${got} of ${N} arrived`);
    return N;
  });
  await driver.close();
  return (N / ms) * 1000;
}

/** Same, awaiting each send before the next (latency-bound, as a request/reply protocol). */
async function apToIopSerial(): Promise<number> {
  const { asc, driver } = rig();
  asc.onInbound(() => {
    while (asc.receive() !== undefined);
  });
  const ms = await best(async () => {
    for (let i = 0; i < N; i++) await driver.send(0x20, BigInt(i));
    return N;
  });
  await driver.close();
  return (N / ms) * 1000;
}

/** IOP→AP: the firmware fills the FIFO with trySend, the driver drains it with poll(). */
async function iopToAp(recv1: 'plain' | 'realistic'): Promise<number> {
  const { asc, driver } = rig(recv1);
  let got = 0;
  driver.setReceiver(() => {
    got++;
  });
  const ms = await best(async () => {
    got = 0;
    let sent = 0;
    while (sent < N) {
      while (sent < N && asc.trySend(0x20, BigInt(sent))) sent++;
      await driver.poll();
    }
    if (got !== N) throw new Error(`IOP→AP: ${got} of ${N} arrived`);
    return N;
  });
  await driver.close();
  return (N / ms) * 1000;
}

/** The channel pair, AP→IOP with polled delivery at the IOP end. */
async function channel(): Promise<number> {
  const { ap, iop } = createChannelPair({ delivery: { iop: 'poll' } });
  let got = 0;
  iop.setReceiver(() => {
    got++;
  });
  const ms = await best(async () => {
    got = 0;
    for (let i = 0; i < N; i++) void ap.send(0x20, BigInt(i));
    await iop.poll();
    if (got !== N) throw new Error(`channel: ${got} of ${N} arrived`);
    return N;
  });
  await ap.close();
  return (N / ms) * 1000;
}

export async function run(): Promise<BenchResult[]> {
  const note = `${N} messages, best of ${ROUNDS}`;
  return [
    {
      name: 'mailbox.registers.ap-to-iop.pipelined',
      value: await apToIop(),
      unit: 'msg/s',
      note,
    },
    {
      name: 'mailbox.registers.ap-to-iop.awaited',
      value: await apToIopSerial(),
      unit: 'msg/s',
      note,
    },
    {
      name: 'mailbox.registers.iop-to-ap',
      value: await iopToAp('plain'),
      unit: 'msg/s',
      note: `${note}, plain RECV1`,
    },
    {
      name: 'mailbox.registers.iop-to-ap.realistic-recv1',
      value: await iopToAp('realistic'),
      unit: 'msg/s',
      note,
    },
    { name: 'mailbox.channel.ap-to-iop', value: await channel(), unit: 'msg/s', note },
  ];
}
