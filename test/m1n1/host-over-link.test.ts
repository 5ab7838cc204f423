// Acceptance (issue 5): the host library, unchanged, running over the m1n1 proxy link against
// the simulated Mac — full boot, application traffic, idle/wake, a crash with its crashlog
// decoded, recovery and shutdown — for the co-processors whose memory needs no IOMMU or SART
// programming over the link: `smc` (buffers in its SRAM) and `generic` (host buffers at
// DVA = physical address, as m1n1's tooling runs without a DART).

import { afterEach, describe, expect, it } from 'vitest';
import { SmcClient } from '../../src/drivers/smc/index.js';
import type { CrashEvent } from '../../src/host/events.js';
import { ProxyClient } from '../../src/m1n1/client.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { ProxyServer, SimulatedMac } from '../../src/sim/proxy/index.js';
import { connectTcp, type LinkServer, listenTcp } from '../../src/transports/tcp.js';
import { openProxyCoprocessor, proxySram } from '../../src/wiring/proxy-host.js';

interface Rig {
  mac: SimulatedMac;
  server: ProxyServer;
  tcp: LinkServer;
  client: ProxyClient;
}

const rigs: Rig[] = [];

async function rig(profiles: ('smc' | 'generic')[], iodev: 'usb' | 'uart'): Promise<Rig> {
  const mac = new SimulatedMac({ profiles, seed: 7 });
  const server = new ProxyServer(mac, { iodev });
  const tcp = await listenTcp('127.0.0.1', 0, (link: ByteLink) => {
    server.attach(link);
  });
  const link = await connectTcp('127.0.0.1', tcp.address.port);
  const client = await ProxyClient.connect(link);
  const r = { mac, server, tcp, client };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.client.close();
    await r.tcp.close();
  }
});

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString(16) : x));
}

function violationsOf(mac: SimulatedMac, name: string): unknown[] {
  return [...mac.soc.coprocessors.get(name)!.firmware.violations];
}

describe('the host library over the m1n1 link', () => {
  for (const iodev of ['usb', 'uart'] as const) {
    it(`smc (${iodev}): boot, keys, idle/wake, crash with crashlog, recovery, shutdown`, async () => {
      const { mac, client } = await rig(['smc'], iodev);
      expect(client.dataChecksums).toBe(iodev === 'uart');
      const cp = await openProxyCoprocessor(client, {
        path: '/arm-io/smc',
        coproc: 'smc',
        waitForBuffers: [1],
      });
      const crashes: CrashEvent[] = [];
      cp.session.on('crash', (e) => crashes.push(e));
      expect(cp.info.ascBase).toBe(0x2_3e40_0000);
      expect(cp.info.sram).toBeDefined();

      expect(await cp.start()).toBe('boot');
      expect(cp.session.state).toMatchObject({
        running: true,
        iopPowerState: 0x20,
        apPowerState: 0x20,
      });

      const openSmc = async () =>
        SmcClient.open(await cp.session.openEndpoint(0x20), {
          sram: proxySram(client, cp.info.sram!),
        });
      let smc = await openSmc();
      expect(await smc.keyCount()).toBeGreaterThan(10);
      expect(typeof (await smc.read('TB0T'))).toBe('number');
      await smc.write('CH0C', 1);
      expect(await smc.read('CH0C')).toBe(1);
      await smc.close();

      await cp.session.idle();
      expect(cp.session.state.iopPowerState).toBe(0x201);
      await cp.session.wake();
      expect(cp.session.state.running).toBe(true);

      // A crash: the firmware writes its crashlog into its SRAM buffer and notifies EP1; the host
      // reads it back over the link and decodes it.
      const crashed = new Promise<void>((resolve) => cp.session.once('crash', () => resolve()));
      mac.soc.coprocessors.get('smc')!.firmware.crash('test crash over the link');
      await crashed;
      expect(crashes).toHaveLength(1);
      const crash = crashes[0]!;
      expect(crash.problem).toBeUndefined();
      expect(crash.report).toBeDefined();
      const cstr = crash.report!.sections.find((s) => s.fourcc === 'Cstr');
      expect(show(cstr)).toContain('test crash over the link');
      expect(cp.session.state.crashed).toBe(true);

      await cp.session.recover();
      expect(cp.session.state).toMatchObject({ running: true, crashed: false });
      smc = await openSmc();
      expect(await smc.keyCount()).toBeGreaterThan(10);
      await smc.close();

      await cp.session.shutdown();
      expect(cp.session.state.running).toBe(false);
      expect(mac.soc.coprocessors.get('smc')!.firmware.state).toMatchObject({ iopState: 0x1 });
      await cp.close();
      expect(violationsOf(mac, 'smc')).toEqual([]);
      expect(mac.soc.faults.total).toBe(0);
    }, 30_000);
  }

  it('generic: host buffers at DVA = physical address, echo traffic, syslog, crash, recovery', async () => {
    const { mac, client } = await rig(['generic'], 'usb');
    const cp = await openProxyCoprocessor(client, {
      path: '/arm-io/generic',
      coproc: 'generic',
      waitForBuffers: [1],
    });
    const syslog: string[] = [];
    cp.session.on('syslog', (e) => syslog.push(e.entry.message));
    const crashes: CrashEvent[] = [];
    cp.session.on('crash', (e) => crashes.push(e));
    await cp.start();

    const heap = await client.heap();
    const buffers = cp.session.buffers!.entries().map((e) => e.buffer);
    expect(buffers.length).toBeGreaterThan(0);
    for (const b of buffers) {
      expect(b.mode).toBe('identity');
      // Inside the tooling's heap window: the co-processor uses the physical address.
      expect(
        BigInt(b.device) >= heap.base &&
          BigInt(b.device) + BigInt(b.bytes) <= heap.base + heap.size,
      ).toBe(true);
    }

    const echo = await cp.session.openEndpoint(cp.session.firstAppEndpoint);
    for (const w of [0x1234n, 0xdead_beef_0000_0001n, 0xffff_ffff_ffff_ffffn]) {
      expect(await echo.request(w, (x) => x === w)).toBe(w);
    }
    await cp.session.idle();
    await cp.session.wake();

    const crashed = new Promise<void>((resolve) => cp.session.once('crash', () => resolve()));
    mac.soc.coprocessors.get('generic')!.firmware.crash('generic crash over the link');
    await crashed;
    expect(crashes[0]!.report).toBeDefined();
    expect(show(crashes[0]!.report)).toContain('generic crash over the link');

    await cp.session.recover();
    // A new firmware session: endpoints are started again.
    const again = await cp.session.openEndpoint(cp.session.firstAppEndpoint);
    expect(await again.request(0x55n, (x) => x === 0x55n)).toBe(0x55n);
    expect(syslog.length).toBeGreaterThan(0);
    await cp.session.shutdown();
    await cp.close();
    expect(violationsOf(mac, 'generic')).toEqual([]);
    expect(mac.soc.faults.total).toBe(0);
  }, 30_000);
});
