// Acceptance (issue 5): 1 MiB memory write then read back, byte-exact, over TCP and over a
// pseudo-terminal (socat pty pair, opened as serial devices by both ends), in both data-checksum
// modes — the client against the simulated Mac's proxy server.

import { afterEach, describe, expect, it } from 'vitest';
import { ProxyClient } from '../../src/m1n1/client.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { ProxyServer, SimulatedMac } from '../../src/sim/proxy/index.js';
import { createPtyPair } from '../../src/transports/pty.js';
import { openSerial } from '../../src/transports/serial.js';
import { connectTcp, listenTcp } from '../../src/transports/tcp.js';

type Cleanup = () => Promise<void>;
const cleanups: Cleanup[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function overTcp(server: ProxyServer): Promise<ByteLink> {
  const tcp = await listenTcp('127.0.0.1', 0, (link) => {
    server.attach(link);
  });
  cleanups.push(() => tcp.close());
  return connectTcp('127.0.0.1', tcp.address.port);
}

async function overPty(server: ProxyServer): Promise<ByteLink> {
  const pair = await createPtyPair();
  cleanups.push(() => pair.close());
  const device = await openSerial(pair.paths[1]);
  cleanups.push(() => device.close());
  server.attach(device);
  return openSerial(pair.paths[0]);
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  // Every byte value, including the frame prefix and line-discipline bytes, in one run.
  for (let i = 0; i < 256; i++) out[i] = i;
  out.set([0xff, 0x55, 0xaa, 0x01, 0x0a, 0x0d, 0x11, 0x13, 0x03, 0x1a], 300);
  return out;
}

describe('1 MiB memory write and read back over real byte links', () => {
  for (const [linkName, open] of [
    ['tcp', overTcp],
    ['pty', overPty],
  ] as const) {
    for (const checksums of ['on', 'off'] as const) {
      it(`${linkName}, data checksums ${checksums}`, async () => {
        const mac = new SimulatedMac({ profiles: ['smc'], seed: 3 });
        const server = new ProxyServer(mac, { iodev: 'usb', dataChecksums: checksums });
        const client = await ProxyClient.connect(await open(server), { baudSwitch: false });
        cleanups.push(() => client.close());
        expect(client.dataChecksums).toBe(checksums === 'on');

        const heap = await client.heap();
        const addr = heap.alloc(1 << 20, 0x4000);
        const data = pattern(1 << 20, linkName === 'tcp' ? 11 : 12);
        await client.memWrite(addr, data);
        const back = await client.memRead(addr, data.length);
        expect(back.length).toBe(data.length);
        expect(Buffer.compare(back, data)).toBe(0);
        // The server's memory holds it too (not just an echo of the link).
        expect(
          Buffer.compare(mac.soc.memory.read(Number(addr), 4096), data.subarray(0, 4096)),
        ).toBe(0);
        // And the link is still in sync afterwards.
        expect(await client.read32(addr)).toBe(
          BigInt(new DataView(data.buffer).getUint32(0, true)),
        );
      }, 60_000);
    }
  }
});
