// TCP specifics beyond the contract suite: typed connect failures, the listener, resets.

import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { isRtkitError, type RtkitError } from '../../src/errors.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { connectTcp, listenTcp } from '../../src/transports/tcp.js';
import { collector, receive, waitFor } from './helpers.js';

/** A port nobody listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<RtkitError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isRtkitError(e), String(e)).toBe(true);
  return e as RtkitError;
}

describe('connectTcp', () => {
  it('refused: TRANSPORT_CLOSED with the OS reason', async () => {
    const port = await freePort();
    const e = await rejection(connectTcp('127.0.0.1', port));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.details).toMatchObject({ code: 'ECONNREFUSED', host: '127.0.0.1', port });
    expect(e.message).toContain(`tcp:127.0.0.1:${port}`);
  });

  it('no answer within timeoutMs: TRANSPORT_TIMEOUT (virtual time, no wall-clock wait)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const clock = new VirtualClock();
      const pending = connectTcp('127.0.0.1', port, { timeoutMs: 250, clock });
      // The connect completes only in a later I/O turn; the timer fires now.
      clock.advance(250);
      const e = await rejection(pending);
      expect(e.code).toBe('TRANSPORT_TIMEOUT');
      expect(e.details).toMatchObject({ timeoutMs: 250, port });
      expect(clock.pending).toBe(0);
    } finally {
      server.close();
    }
  });

  it('rejects bad arguments with BAD_INPUT', async () => {
    for (const [host, port, timeoutMs] of [
      ['127.0.0.1', 0, 1],
      ['127.0.0.1', 65536, 1],
      ['127.0.0.1', 1.5, 1],
      ['', 80, 1],
      ['bad host', 80, 1],
      ['127.0.0.1', 80, -1],
      ['127.0.0.1', 80, Number.NaN],
    ] as const) {
      const e = await rejection(connectTcp(host, port, { timeoutMs }));
      expect(e.code, `${host}:${port}`).toBe('BAD_INPUT');
    }
  });

  it('describes itself as tcp:HOST:PORT and sets TCP_NODELAY', async () => {
    let accepted: ByteLink | undefined;
    const server = await listenTcp('127.0.0.1', 0, (link) => {
      accepted = link;
    });
    try {
      const link = await connectTcp('127.0.0.1', server.address.port);
      expect(link.description).toBe(`tcp:127.0.0.1:${server.address.port}`);
      await waitFor(() => accepted !== undefined, 'accept');
      expect(accepted!.description).toMatch(/^tcp:127\.0\.0\.1:\d+$/);
      await link.setBaudRate(1_500_000);
      await link.close();
      await expect(link.setBaudRate(115200)).rejects.toThrow(/TRANSPORT_CLOSED/);
    } finally {
      await server.close();
    }
  });
});

describe('TCP link failures', () => {
  it('a reset by the peer becomes onClose(error) with the code; pending writes reject', async () => {
    const sockets: Socket[] = [];
    const raw = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const { port } = raw.address() as { port: number };
    try {
      const link = await connectTcp('127.0.0.1', port);
      const closes: (Error | undefined)[] = [];
      link.onClose((e) => closes.push(e));
      await waitFor(() => sockets.length === 1, 'accept');
      sockets[0]!.resetAndDestroy();
      await waitFor(() => closes.length > 0, 'onClose after the reset');
      expect(isRtkitError(closes[0], 'TRANSPORT_CLOSED')).toBe(true);
      expect((closes[0] as RtkitError).details).toMatchObject({ code: 'ECONNRESET' });
      const e = await rejection(link.write(new Uint8Array(1 << 20)));
      expect(e.code).toBe('TRANSPORT_CLOSED');
      expect(closes).toHaveLength(1);
    } finally {
      raw.close();
    }
  });

  it('writes in flight when the peer vanishes reject TRANSPORT_CLOSED, without crashing', async () => {
    const sockets: Socket[] = [];
    const raw = createServer((s) => {
      s.pause(); // never read: our writes back up
      sockets.push(s);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const { port } = raw.address() as { port: number };
    try {
      const link = await connectTcp('127.0.0.1', port);
      await waitFor(() => sockets.length === 1, 'accept');
      const big = new Uint8Array(8 << 20);
      const writes = [link.write(big), link.write(big), link.write(big)];
      sockets[0]!.resetAndDestroy();
      const outcomes = await Promise.allSettled(writes);
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const o of rejected) expect(isRtkitError(o.reason, 'TRANSPORT_CLOSED')).toBe(true);
      await waitFor(() => link.closed, 'the link to close');
    } finally {
      raw.close();
    }
  });
});

describe('listenTcp', () => {
  it('reports its real address and description when asked for port 0', async () => {
    const server = await listenTcp('127.0.0.1', 0, () => {});
    try {
      expect(server.address.host).toBe('127.0.0.1');
      expect(server.address.port).toBeGreaterThan(0);
      expect(server.description).toBe(`tcp:127.0.0.1:${server.address.port}`);
    } finally {
      await server.close();
    }
  });

  it('close() stops listening and closes the links it accepted; clients see a hang-up', async () => {
    const accepted: ByteLink[] = [];
    const server = await listenTcp('127.0.0.1', 0, (link) => accepted.push(link));
    const port = server.address.port;
    const clients = await Promise.all([
      connectTcp('127.0.0.1', port),
      connectTcp('127.0.0.1', port),
    ]);
    await waitFor(() => accepted.length === 2, 'two accepts');
    const clientClosed = clients.map(() => false);
    clients.forEach((c, i) => {
      c.onClose(() => {
        clientClosed[i] = true;
      });
    });
    // Bytes already sent still arrive before the hang-up.
    const atClient = collector(clients[0]!);
    await accepted[0]!.write(Uint8Array.of(1, 2, 3));
    await receive(atClient, 3, 'client');
    await server.close();
    await server.close();
    expect(accepted.every((l) => l.closed)).toBe(true);
    await waitFor(() => clientClosed.every(Boolean), 'clients to see the hang-up');
    const e = await rejection(connectTcp('127.0.0.1', port));
    expect(e.code).toBe('TRANSPORT_CLOSED');
  });

  it('a port in use: TRANSPORT_CLOSED with EADDRINUSE', async () => {
    const first = await listenTcp('127.0.0.1', 0, () => {});
    try {
      const e = await rejection(listenTcp('127.0.0.1', first.address.port, () => {}));
      expect(e.code).toBe('TRANSPORT_CLOSED');
      expect(e.details).toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  it('an onLink that throws closes that link; the server keeps serving', async () => {
    let calls = 0;
    const server = await listenTcp('127.0.0.1', 0, () => {
      calls++;
      if (calls === 1) throw new Error('refused by the application');
    });
    try {
      const first = await connectTcp('127.0.0.1', server.address.port);
      let firstClosed = false;
      first.onClose(() => {
        firstClosed = true;
      });
      await waitFor(() => firstClosed, 'the refused link to close');
      const second = await connectTcp('127.0.0.1', server.address.port);
      await waitFor(() => calls === 2, 'the second accept');
      expect(second.closed).toBe(false);
      await second.close();
    } finally {
      await server.close();
    }
  });

  it('rejects bad arguments with BAD_INPUT', async () => {
    await expect(listenTcp('127.0.0.1', -1, () => {})).rejects.toThrow(/BAD_INPUT/);
    await expect(listenTcp('no such host!', 0, () => {})).rejects.toThrow(/BAD_INPUT/);
  });
});
