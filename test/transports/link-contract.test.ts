// The ByteLink contract (src/m1n1/link.ts), held against every implementation: the in-memory
// mock, TCP on loopback, a socat pty pair opened through serialport, and Web Serial over a fake
// port. The pty cases need socat: without it they fail saying so (CI installs it).

import { describe, expect, it } from 'vitest';
import { isRtkitError } from '../../src/errors.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { createLinkPair } from '../../src/m1n1/testing/mock-link.js';
import { webSerialLink } from '../../src/m1n1/web-serial-link.js';
import { createPtyPair } from '../../src/transports/pty.js';
import { openSerial } from '../../src/transports/serial.js';
import { connectTcp, listenTcp } from '../../src/transports/tcp.js';
import { FakeWebSerialPort } from './fake-web-serial.js';
import {
  collector,
  expectSameBytes,
  handleCounts,
  receive,
  seededBytes,
  seededInts,
  sleep,
  waitFor,
} from './helpers.js';

interface Pair {
  readonly a: ByteLink;
  readonly b: ByteLink;
  /** Take the line away under both ends (for links where closing one end is no hang-up). */
  cutLine(): Promise<void>;
  dispose(): Promise<void>;
}

interface PairFactory {
  readonly name: string;
  /**
   * Whether closing one end is a hang-up the other sees. A serial line has no such signal (a
   * pty, a UART, a Web Serial port): the peer sees onClose only when the line itself goes.
   */
  readonly peerHangUp: boolean;
  create(): Promise<Pair>;
}

async function closeAll(...links: ByteLink[]): Promise<void> {
  await Promise.all(links.map((l) => l.close()));
}

const factories: PairFactory[] = [
  {
    name: 'mock (whole chunks)',
    peerHangUp: true,
    create: async () => {
      const [a, b] = createLinkPair({ chunking: 'whole' });
      return { a, b, cutLine: async () => {}, dispose: () => closeAll(a, b) };
    },
  },
  {
    name: 'mock (random chunks)',
    peerHangUp: true,
    create: async () => {
      const [a, b] = createLinkPair({ chunking: 'random', seed: 7 });
      return { a, b, cutLine: async () => {}, dispose: () => closeAll(a, b) };
    },
  },
  {
    name: 'tcp loopback',
    peerHangUp: true,
    create: async () => {
      let accepted: ByteLink | undefined;
      const server = await listenTcp('127.0.0.1', 0, (link) => {
        accepted = link;
      });
      const a = await connectTcp('127.0.0.1', server.address.port);
      await waitFor(() => accepted !== undefined, 'the accepted connection');
      const b = accepted!;
      return {
        a,
        b,
        cutLine: async () => {},
        dispose: async () => {
          await closeAll(a, b);
          await server.close();
        },
      };
    },
  },
  {
    name: 'socat pty pair + serialport',
    peerHangUp: false,
    create: async () => {
      const pair = await createPtyPair();
      try {
        const a = await openSerial(pair.paths[0]);
        const b = await openSerial(pair.paths[1]);
        return {
          a,
          b,
          cutLine: () => pair.close(),
          dispose: async () => {
            await closeAll(a, b);
            await pair.close();
          },
        };
      } catch (e) {
        await pair.close();
        throw e;
      }
    },
  },
  {
    name: 'web serial (fake port over a mock wire)',
    peerHangUp: false,
    create: async () => {
      const [wa, wb] = createLinkPair({ chunking: 'random', seed: 3 });
      const a = await webSerialLink(new FakeWebSerialPort(wa));
      const b = await webSerialLink(new FakeWebSerialPort(wb));
      return {
        a,
        b,
        cutLine: () => wa.close(),
        dispose: async () => {
          await closeAll(a, b);
          await closeAll(wa, wb);
        },
      };
    },
  },
];

async function withPair(f: PairFactory, body: (p: Pair) => Promise<void>): Promise<void> {
  const pair = await f.create();
  try {
    await body(pair);
  } finally {
    await pair.dispose();
  }
}

function expectClosedError(e: unknown): void {
  expect(isRtkitError(e, 'TRANSPORT_CLOSED'), String(e)).toBe(true);
}

describe.each(factories)('ByteLink contract: $name', (f) => {
  it('carries every byte value 0x00–0xff unchanged, both ways', () =>
    withPair(f, async ({ a, b }) => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const reversed = all.slice().reverse();
      // Newline translation (0A → 0D 0A), XON/XOFF (11, 13), echo or a stripped bit 7 show here.
      const expected = Buffer.concat([all, reversed]);
      const atA = collector(a);
      const atB = collector(b);
      await Promise.all([a.write(all), a.write(reversed), b.write(all), b.write(reversed)]);
      expectSameBytes(await receive(atB, 512, 'b'), expected, 'a → b');
      expectSameBytes(await receive(atA, 512, 'a'), expected, 'b → a');
    }));

  it('carries 1 MiB of seeded random bytes each way, concurrently, byte-exact', () =>
    withPair(f, async ({ a, b }) => {
      const size = 1 << 20;
      const ab = seededBytes(size, 0x1234);
      const ba = seededBytes(size, 0xbeef);
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
      await Promise.all([send(a, ab, 1), send(b, ba, 2)]);
      expectSameBytes(await receive(atB, size, 'b'), ab, 'a → b');
      expectSameBytes(await receive(atA, size, 'a'), ba, 'b → a');
    }));

  it('keeps order across many small writes issued without waiting', () =>
    withPair(f, async ({ a, b }) => {
      const atB = collector(b);
      const nextSize = seededInts(99, 1, 7);
      const pieces: Uint8Array[] = [];
      for (let i = 0, off = 0; i < 3000; i++) {
        const n = nextSize();
        pieces.push(Uint8Array.from({ length: n }, (_, k) => (off + k) * 7 + (off >> 8)));
        off += n;
      }
      await Promise.all(pieces.map((p) => a.write(p)));
      const expected = Buffer.concat(pieces);
      expectSameBytes(await receive(atB, expected.length, 'b'), expected, 'a → b');
    }));

  it('lets the caller reuse a buffer once its write resolved', () =>
    withPair(f, async ({ a, b }) => {
      const atB = collector(b);
      const buffer = Uint8Array.of(1, 2, 3, 4);
      await a.write(buffer);
      buffer.fill(0xee);
      await a.write(buffer.subarray(0, 2));
      expectSameBytes(await receive(atB, 6, 'b'), Uint8Array.of(1, 2, 3, 4, 0xee, 0xee), 'a → b');
    }));

  it('keeps bytes that arrive before onData, and hands later ones to a new receiver', () =>
    withPair(f, async ({ a, b }) => {
      const early = Uint8Array.of(0xff, 0x55, 0xaa, 0x00, 0x0a, 0x0d);
      await a.write(early);
      // Time for the bytes to reach b before anyone listens (the test passes, weaker, if not).
      await sleep(100);
      const first = collector(b);
      expectSameBytes(await receive(first, early.length, 'b'), early, 'early bytes');
      const second = collector(b);
      await a.write(Uint8Array.of(1, 2, 3));
      expectSameBytes(await receive(second, 3, 'b'), Uint8Array.of(1, 2, 3), 'replacement');
      expect(first.length).toBe(early.length);
    }));

  it('close: onClose once on both ends (after a hang-up or the line going away)', () =>
    withPair(f, async ({ a, b, cutLine }) => {
      const aClosed: (Error | undefined)[] = [];
      const bClosed: (Error | undefined)[] = [];
      a.onClose((e) => aClosed.push(e));
      b.onClose((e) => bClosed.push(e));
      await a.close();
      expect(a.closed).toBe(true);
      expect(aClosed).toEqual([undefined]);
      if (f.peerHangUp) {
        await waitFor(() => bClosed.length > 0, 'the peer to see the hang-up');
      } else {
        // A serial line carries no hang-up: the peer stays open until the line goes away.
        await sleep(100);
        expect(b.closed).toBe(false);
        await cutLine();
        await waitFor(() => bClosed.length > 0, 'the peer to see the line go');
      }
      expect(b.closed).toBe(true);
      await sleep(20);
      expect(bClosed).toHaveLength(1);
      expect(aClosed).toHaveLength(1);
      await expect(b.write(Uint8Array.of(1))).rejects.toSatisfy((e) => {
        expectClosedError(e);
        return true;
      });
    }));

  it('write after close rejects TRANSPORT_CLOSED; close twice is fine; late onClose fires', () =>
    withPair(f, async ({ a }) => {
      let calls = 0;
      a.onClose(() => calls++);
      await Promise.all([a.close(), a.close()]);
      await a.close();
      expect(calls).toBe(1);
      const e = await a.write(Uint8Array.of(0x42)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expectClosedError(e);
      const empty = await a.write(new Uint8Array(0)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expectClosedError(empty);
      let late = 0;
      a.onClose(() => late++);
      expect(late).toBe(1);
    }));

  it('leaks no listeners or handles', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const before = handleCounts();
    const exitListeners = process.listenerCount('exit');
    try {
      await withPair(f, async ({ a, b }) => {
        const atB = collector(b);
        // Many writes in flight at once must not pile up listeners on a shared emitter.
        const writes = Array.from({ length: 2000 }, (_, i) => a.write(Uint8Array.of(i & 0xff)));
        await Promise.all(writes);
        await receive(atB, 2000, 'b');
        for (let i = 0; i < 50; i++) b.onData(() => {});
      });
      // Timers of the test runner come and go; ours must not outlive the link.
      const settled = (): boolean => {
        const now = handleCounts();
        const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
        return [...keys].every((k) =>
          k === 'Timeout' ? (now[k] ?? 0) <= (before[k] ?? 0) : now[k] === before[k],
        );
      };
      await waitFor(settled, `handles back to ${JSON.stringify(before)}`).catch((e: Error) => {
        throw new Error(`${e.message}, now ${JSON.stringify(handleCounts())}`);
      });
      await sleep(10);
      expect(process.listenerCount('exit')).toBe(exitListeners);
      expect(warnings.map((w) => w.message)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

// Not part of the ByteLink contract (the mock lets the exception escape), but of every link on
// LinkCore: a receiver that throws must not crash the process from an I/O callback.
describe.each(factories.filter((f) => !f.name.startsWith('mock')))(
  'a throwing receiver: $name',
  (f) => {
    it('closes the link with TRANSPORT_CLOSED carrying the exception', () =>
      withPair(f, async ({ a, b }) => {
        const closes: (Error | undefined)[] = [];
        b.onClose((e) => closes.push(e));
        const bug = new Error('receiver bug');
        b.onData(() => {
          throw bug;
        });
        await a.write(Uint8Array.of(1));
        await waitFor(() => closes.length > 0, 'onClose');
        expect(isRtkitError(closes[0], 'TRANSPORT_CLOSED')).toBe(true);
        expect(closes[0]!.cause).toBe(bug);
        expect(b.closed).toBe(true);
      }));
  },
);
