// Web Serial specifics beyond the contract suite: opening, baud changes by reopening, read errors.

import { describe, expect, it } from 'vitest';
import { isRtkitError, type RtkitError } from '../../src/errors.js';
import { createLinkPair } from '../../src/m1n1/testing/mock-link.js';
import { webSerialLink } from '../../src/m1n1/web-serial-link.js';
import { FakeWebSerialPort } from './fake-web-serial.js';
import { collector, expectSameBytes, receive, sleep, waitFor } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<RtkitError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isRtkitError(e), String(e)).toBe(true);
  return e as RtkitError;
}

function setup() {
  const [wire, device] = createLinkPair({ chunking: 'random', seed: 11 });
  const port = new FakeWebSerialPort(wire, { usbVendorId: 0x1209, usbProductId: 0x316d });
  return { wire, device, port };
}

describe('webSerialLink', () => {
  it('opens a closed port 8N1 at the rate asked for, with a large read buffer', async () => {
    const { port } = setup();
    const link = await webSerialLink(port, { baudRate: 1_500_000 });
    expect(port.opens).toHaveLength(1);
    expect(port.opens[0]).toMatchObject({
      baudRate: 1_500_000,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      flowControl: 'none',
    });
    expect(port.opens[0]!.bufferSize).toBeGreaterThanOrEqual(65536);
    expect(link.description).toBe('webserial:1209:316d');
    await link.close();
    expect(port.closes).toBe(1);
    expect(port.readable).toBeNull();
  });

  it('uses an open port as it is, default rate 115200 otherwise', async () => {
    const { port, device } = setup();
    await port.open({ baudRate: 9600 });
    const link = await webSerialLink(port);
    expect(port.opens).toHaveLength(1);
    const atDevice = collector(device);
    await link.write(Uint8Array.of(1, 2));
    await receive(atDevice, 2, 'device');
    // The open port's rate is unknown, so any rate asked for reopens it.
    await link.setBaudRate(115200);
    expect(port.opens.map((o) => o.baudRate)).toEqual([9600, 115200]);
    await link.close();

    const fresh = setup();
    const other = await webSerialLink(fresh.port);
    expect(fresh.port.opens[0]!.baudRate).toBe(115200);
    await other.setBaudRate(115200);
    expect(fresh.port.opens).toHaveLength(1);
    await other.close();
  });

  it('setBaudRate: earlier writes leave first, later ones wait for the reopen, in order', async () => {
    const { port, device } = setup();
    const link = await webSerialLink(port);
    const atDevice = collector(device);
    const atHost = collector(link);
    const before = link.write(Uint8Array.of(0xff, 0x55, 0xaa, 0x00));
    const change = link.setBaudRate(1_500_000);
    const during = [link.write(Uint8Array.of(1)), link.write(Uint8Array.of(2, 3))];
    const second = link.setBaudRate(3_000_000);
    const after = link.write(Uint8Array.of(4));
    await Promise.all([before, change, ...during, second, after]);
    expect(port.opens.map((o) => o.baudRate)).toEqual([115200, 1_500_000, 3_000_000]);
    expectSameBytes(
      await receive(atDevice, 8, 'device'),
      Uint8Array.of(0xff, 0x55, 0xaa, 0x00, 1, 2, 3, 4),
      'host → device',
    );
    // Reading resumes on the reopened port.
    await device.write(Uint8Array.of(9, 8, 7));
    expectSameBytes(await receive(atHost, 3, 'host'), Uint8Array.of(9, 8, 7), 'device → host');
    await link.close();
  });

  it('a non-fatal read error (break, overrun) keeps the link reading', async () => {
    const { port, device } = setup();
    const link = await webSerialLink(port);
    const atHost = collector(link);
    await device.write(Uint8Array.of(1, 2));
    await receive(atHost, 2, 'host');
    port.readError('BreakError');
    await sleep(10);
    expect(link.closed).toBe(false);
    await device.write(Uint8Array.of(3));
    expectSameBytes(await receive(atHost, 3, 'host'), Uint8Array.of(1, 2, 3), 'after the break');
    await link.close();
  });

  it('the device going away: onClose(TRANSPORT_CLOSED), the port is closed and unlocked', async () => {
    const { port, wire } = setup();
    const link = await webSerialLink(port);
    const closes: (Error | undefined)[] = [];
    link.onClose((e) => closes.push(e));
    await wire.close();
    await waitFor(() => closes.length > 0, 'onClose');
    expect(isRtkitError(closes[0], 'TRANSPORT_CLOSED')).toBe(true);
    expect(closes[0]!.message).toContain('NetworkError');
    await waitFor(() => port.readable === null, 'the port to be closed');
    const e = await rejection(link.write(Uint8Array.of(1)));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    await link.close();
    expect(closes).toHaveLength(1);
  });

  it('writes waiting on a reopen reject TRANSPORT_CLOSED when the link closes', async () => {
    const { port } = setup();
    const link = await webSerialLink(port);
    const change = link.setBaudRate(1_500_000);
    const waiting = link.write(Uint8Array.of(1));
    await link.close();
    const e = await rejection(waiting);
    expect(e.code).toBe('TRANSPORT_CLOSED');
    await change.catch(() => {});
    await waitFor(() => port.readable === null, 'the port to be closed');
  });

  it('bad rates: BAD_INPUT; an open failure: TRANSPORT_CLOSED', async () => {
    const { port, wire } = setup();
    expect((await rejection(webSerialLink(port, { baudRate: 0 }))).code).toBe('BAD_INPUT');
    const link = await webSerialLink(port);
    expect((await rejection(link.setBaudRate(-5))).code).toBe('BAD_INPUT');
    expect((await rejection(link.setBaudRate(1.5))).code).toBe('BAD_INPUT');
    await link.close();
    await wire.close();
    const e = await rejection(webSerialLink(port));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.message).toContain('cannot open');
  });
});
