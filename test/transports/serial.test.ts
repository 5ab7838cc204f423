// Serial specifics beyond the contract suite: typed open failures, baud changes, device loss.
// The devices are socat ptys (a real port needs hardware; see docs/m1n1-links.md).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRtkitError, type RtkitError } from '../../src/errors.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { createPtyPair, type PtyPair } from '../../src/transports/pty.js';
import { openSerial } from '../../src/transports/serial.js';
import {
  collector,
  expectSameBytes,
  receive,
  seededBytes,
  seededInts,
  waitFor,
} from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<RtkitError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isRtkitError(e), String(e)).toBe(true);
  return e as RtkitError;
}

describe('openSerial failures are typed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtkit-serial-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a missing device: TRANSPORT_CLOSED, ENOENT, and where m1n1 usually is', async () => {
    const path = join(dir, 'ttyACM9');
    const e = await rejection(openSerial(path));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.details).toMatchObject({ path, code: 'ENOENT' });
    expect(e.message).toContain(path);
    expect(e.message).toContain('/dev/ttyACM0');
  });

  it('a regular file, a directory, /dev/null: not a serial device (ENOTTY)', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    for (const path of [file, dir, '/dev/null']) {
      const e = await rejection(openSerial(path));
      expect(e.code, path).toBe('TRANSPORT_CLOSED');
      expect(e.details, path).toMatchObject({ code: 'ENOTTY' });
      expect(e.message, path).toContain('not a serial device');
    }
  });

  it('bad arguments: BAD_INPUT', async () => {
    for (const [path, baudRate] of [
      ['', 115200],
      ['/dev/x\0y', 115200],
      ['/dev/ttyACM0', 0],
      ['/dev/ttyACM0', 9600.5],
      ['/dev/ttyACM0', 2 ** 31],
    ] as const) {
      const e = await rejection(openSerial(path, { baudRate }));
      expect(e.code, `${JSON.stringify(path)} ${baudRate}`).toBe('BAD_INPUT');
    }
  });
});

describe('serial link over a pty', () => {
  let pair: PtyPair;
  beforeAll(async () => {
    pair = await createPtyPair();
  });
  afterAll(() => pair.close());

  it('describes itself by path; setBaudRate changes the rate and bytes still flow', async () => {
    const a = await openSerial(pair.paths[0], { baudRate: 115200 });
    const b = await openSerial(pair.paths[1]);
    try {
      expect(a.description).toBe(pair.paths[0]);
      const atB = collector(b);
      await a.write(Uint8Array.of(0xff, 0x55, 0xaa, 0x00));
      await a.setBaudRate(1_500_000);
      await b.setBaudRate(1_500_000);
      await a.write(Uint8Array.of(0x0a, 0x0d, 0x11, 0x13));
      expectSameBytes(
        await receive(atB, 8, 'b'),
        Uint8Array.of(0xff, 0x55, 0xaa, 0x00, 0x0a, 0x0d, 0x11, 0x13),
        'across the baud change',
      );
      // A rate stty does not know falls back to serialport's custom-rate path.
      await a.setBaudRate(123_456);
      const e = await rejection(a.setBaudRate(0));
      expect(e.code).toBe('BAD_INPUT');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const e = await rejection(a.setBaudRate(115200));
    expect(e.code).toBe('TRANSPORT_CLOSED');
  });

  it('an end can be closed and opened again, like a real port; the peer notices nothing', async () => {
    const b = await openSerial(pair.paths[1]);
    try {
      const atB = collector(b);
      for (let run = 0; run < 3; run++) {
        const a = await openSerial(pair.paths[0]);
        await a.write(Uint8Array.of(run, 0x0a));
        // As m1n1's tooling waits for its reply: opening flushes what the last run left unread.
        await receive(atB, 2 * (run + 1), 'b');
        await a.close();
      }
      expectSameBytes(await receive(atB, 6, 'b'), Uint8Array.of(0, 10, 1, 10, 2, 10), 'runs');
      expect(b.closed).toBe(false);
    } finally {
      await b.close();
    }
  });
});

describe('serial link under load', () => {
  it('both directions saturated at once never stall (node-serialport poller regression)', async () => {
    // node-serialport 13's own read/write path lost a poll event under this load about once in
    // thirty rounds and then hung; the TTY-stream data path must not.
    for (let round = 0; round < 8; round++) {
      const pair = await createPtyPair();
      const a = await openSerial(pair.paths[0]);
      const b = await openSerial(pair.paths[1]);
      try {
        const size = 512 * 1024;
        const ab = seededBytes(size, round + 1);
        const ba = seededBytes(size, round + 101);
        const atA = collector(a);
        const atB = collector(b);
        const send = async (link: ByteLink, data: Uint8Array, seed: number): Promise<void> => {
          const nextSize = seededInts(seed, 1, 65536);
          for (let off = 0; off < data.length; ) {
            const n = Math.min(nextSize(), data.length - off);
            await link.write(data.subarray(off, off + n));
            off += n;
          }
        };
        await Promise.all([send(a, ab, round), send(b, ba, round + 50)]);
        expectSameBytes(await receive(atB, size, 'b'), ab, `round ${round} a → b`);
        expectSameBytes(await receive(atA, size, 'a'), ba, `round ${round} b → a`);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await pair.close();
      }
    }
  });

  it('writes made during setBaudRate wait for it and keep their order', async () => {
    const pair = await createPtyPair();
    const a = await openSerial(pair.paths[0]);
    const b = await openSerial(pair.paths[1]);
    try {
      const atB = collector(b);
      const first = a.write(Uint8Array.of(1, 2));
      const change = a.setBaudRate(1_500_000);
      const during = [
        a.write(Uint8Array.of(3)),
        a.write(new Uint8Array(0)),
        a.write(Uint8Array.of(4, 5)),
      ];
      const again = a.setBaudRate(115200);
      const after = a.write(Uint8Array.of(6));
      await Promise.all([first, change, ...during, again, after]);
      expectSameBytes(await receive(atB, 6, 'b'), Uint8Array.of(1, 2, 3, 4, 5, 6), 'order');
      // Writes queued behind a rate change reject if the link closes first.
      const pending = a.setBaudRate(1_500_000).catch((e: unknown) => e);
      const queued = rejection(a.write(Uint8Array.of(7)));
      await a.close();
      expect((await queued).code).toBe('TRANSPORT_CLOSED');
      await pending;
    } finally {
      await Promise.all([a.close(), b.close()]);
      await pair.close();
    }
  });
});

describe('device loss', () => {
  it('the pty going away closes an open link with TRANSPORT_CLOSED; writes then reject', async () => {
    const pair = await createPtyPair();
    const link = await openSerial(pair.paths[0]);
    const closes: (Error | undefined)[] = [];
    link.onClose((e) => closes.push(e));
    await pair.close();
    await waitFor(() => closes.length > 0, 'onClose after the pty went away');
    expect(isRtkitError(closes[0], 'TRANSPORT_CLOSED')).toBe(true);
    expect(closes[0]!.message).toContain('device disconnected');
    const e = await rejection(link.write(Uint8Array.of(1)));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    await link.close();
    expect(closes).toHaveLength(1);
  });
});
