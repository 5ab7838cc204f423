// Device specs as the CLI and M1N1DEVICE write them, and openLink over each kind.

import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../src/errors.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { openLink, parseDeviceSpec } from '../../src/transports/open-link.js';
import { createPtyPair } from '../../src/transports/pty.js';
import { openSerial } from '../../src/transports/serial.js';
import { listenTcp } from '../../src/transports/tcp.js';
import { collector, expectSameBytes, receive, waitFor } from './helpers.js';

describe('parseDeviceSpec', () => {
  it.each([
    ['tcp:127.0.0.1:4000', { kind: 'tcp', host: '127.0.0.1', port: 4000 }],
    ['tcp:localhost:1', { kind: 'tcp', host: 'localhost', port: 1 }],
    ['tcp:mac-mini.local:65535', { kind: 'tcp', host: 'mac-mini.local', port: 65535 }],
    ['tcp:[::1]:4000', { kind: 'tcp', host: '::1', port: 4000 }],
    ['tcp:[fe80::1]:22', { kind: 'tcp', host: 'fe80::1', port: 22 }],
    ['/dev/m1n1', { kind: 'serial', path: '/dev/m1n1' }],
    ['/dev/ttyACM0:115200', { kind: 'serial', path: '/dev/ttyACM0', baudRate: 115200 }],
    ['/dev/cu.usbmodemP_01', { kind: 'serial', path: '/dev/cu.usbmodemP_01' }],
    ['COM3:1500000', { kind: 'serial', path: 'COM3', baudRate: 1_500_000 }],
    // The baud rate follows the LAST colon, as in M1N1DEVICE; then a path may hold colons.
    [
      '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0:115200',
      {
        kind: 'serial',
        path: '/dev/serial/by-path/pci-0000:00:14.0-usb-0:1:1.0',
        baudRate: 115200,
      },
    ],
  ] as const)('%s', (spec, expected) => {
    expect(parseDeviceSpec(spec)).toEqual(expected);
  });

  it.each([
    ['', 'expected tcp:HOST:PORT'],
    ['   ', 'expected tcp:HOST:PORT'],
    ['tcp:', 'no port'],
    ['tcp:127.0.0.1', 'no port'],
    ['tcp:127.0.0.1:', 'not a number'],
    ['tcp:127.0.0.1:0', 'port must be'],
    ['tcp:127.0.0.1:65536', 'port must be'],
    ['tcp:127.0.0.1:80x', 'not a number'],
    ['tcp::::1:80', 'brackets'],
    ['tcp:[::1]80', 'expected tcp:HOST:PORT'],
    ['tcp:[not-ip]:80', 'not a host name or IP'],
    ['tcp:bad host:80', 'not a host name or IP'],
    ['tcp://127.0.0.1:4000', 'URLs are not accepted'],
    ['serial:///dev/ttyACM0', 'URLs are not accepted'],
    ['/dev/ttyACM0:', 'baud rate'],
    ['/dev/ttyACM0:fast', 'baud rate'],
    ['/dev/ttyACM0:0', 'baud rate must be'],
    ['/dev/ttyACM0:99999999999', 'baud rate'],
    [':115200', 'no device path'],
  ])('%j → BAD_INPUT', (spec, message) => {
    let error: unknown;
    try {
      parseDeviceSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(isRtkitError(error, 'BAD_INPUT'), String(error)).toBe(true);
    expect((error as Error).message).toContain(message);
  });
});

describe('openLink', () => {
  it('tcp:HOST:PORT connects', async () => {
    let accepted: ByteLink | undefined;
    const server = await listenTcp('127.0.0.1', 0, (link) => {
      accepted = link;
    });
    try {
      const link = await openLink(server.description, { timeoutMs: 2000 });
      expect(link.description).toBe(server.description);
      await waitFor(() => accepted !== undefined, 'accept');
      const at = collector(accepted!);
      await link.write(Uint8Array.of(0xff, 0x55, 0xaa));
      expectSameBytes(await receive(at, 3, 'server'), Uint8Array.of(0xff, 0x55, 0xaa), 'tcp');
      await link.close();
    } finally {
      await server.close();
    }
  });

  it('PATH:BAUD opens the serial device at that rate', async () => {
    const pair = await createPtyPair();
    try {
      const link = await openLink(`${pair.paths[0]}:1500000`);
      const peer = await openSerial(pair.paths[1]);
      expect(link.description).toBe(pair.paths[0]);
      const at = collector(peer);
      await link.write(Uint8Array.of(0x0a, 0x00));
      expectSameBytes(await receive(at, 2, 'peer'), Uint8Array.of(0x0a, 0x00), 'serial');
      await Promise.all([link.close(), peer.close()]);
    } finally {
      await pair.close();
    }
  });

  it('a bad spec rejects with BAD_INPUT; a missing device with TRANSPORT_CLOSED', async () => {
    await expect(openLink('tcp:nowhere')).rejects.toSatisfy((e) => isRtkitError(e, 'BAD_INPUT'));
    await expect(openLink('/nonexistent/ttyACM0:115200')).rejects.toSatisfy((e) =>
      isRtkitError(e, 'TRANSPORT_CLOSED'),
    );
  });
});
