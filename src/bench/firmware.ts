/**
 * Firmware-model benchmarks: a full boot to ON (handshake, buffers, AP ON) against the scripted
 * test host, syslog LOG round trips (entry written through a DmaPort, echoed by the host), PING
 * round trips, and composing + building a crash dump with a full mailbox history.
 */

import { composeCrashlog } from '../sim/firmware/crash.js';
import { MailboxHistory } from '../sim/firmware/history.js';
import { setup } from '../sim/firmware/testing/setup.js';
import { getProfile } from '../sim/profiles/index.js';
import { createRng } from '../sim/rng.js';
import { type BenchResult, bestOf } from './result.js';

function bootMs(): number {
  return bestOf(() => {
    const { host } = setup(getProfile('generic'), { background: false });
    host.bootLinux();
    host.advance(1);
  }, 500);
}

function syslogNs(n: number): number {
  const { host, fw } = setup(getProfile('dcp'), { background: false, strict: false });
  host.bootLinux();
  host.advance(1);
  const ms = bestOf(() => {
    for (let i = 0; i < n; i++) fw.log('UPPipeDCP_H13P.cpp', 10468, 'set_run_mode_safe: 1 -> 2');
    host.pump();
  }, 500);
  return (ms * 1e6) / n;
}

function pingNs(n: number): number {
  const { host } = setup(getProfile('generic'), { background: false, strict: false });
  host.bootLinux();
  host.advance(1);
  const ms = bestOf(() => {
    for (let i = 0; i < n; i++) host.send(0, 0x0030000000000000n + BigInt(i));
    host.pump();
  }, 500);
  return (ms * 1e6) / n;
}

function crashUs(): number {
  const h = new MailboxHistory(128);
  for (let i = 0; i < 128; i++) h.record(i, i % 2 ? 'ap->iop' : 'iop->ap', 2, 0x0050000000000000n);
  const profile = getProfile('dcp').crash;
  const ms = bestOf(() => {
    composeCrashlog(
      {
        profile,
        reason: 'bench',
        kind: 'serror',
        history: h.entries,
        time: 1_000_000n,
        rng: createRng(1),
      },
      3 * 0x1000,
    );
  }, 300);
  return ms * 1e3;
}

export function run(): BenchResult[] {
  return [
    {
      name: 'firmware.boot',
      value: bootMs(),
      unit: 'ms',
      note: 'generic, Linux ordering to AP ON',
    },
    {
      name: 'firmware.syslog',
      value: syslogNs(1000),
      unit: 'ns/entry',
      note: 'DCP ring, RMW through a DmaPort, echoed by the host',
    },
    { name: 'firmware.ping', value: pingNs(1000), unit: 'ns/round trip' },
    { name: 'firmware.crashlog', value: crashUs(), unit: 'µs', note: '128 Cmbx entries, 3 pages' },
  ];
}
