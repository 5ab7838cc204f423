// Pseudo-terminals through socat: the pair, and the bridge that lets m1n1's Python tooling
// (which opens and closes a serial path once per run) reach a TCP server.

import {
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRtkitError, type RtkitError } from '../../src/errors.js';
import type { ByteLink } from '../../src/m1n1/link.js';
import { bridgePtyToTcp, createPtyPair } from '../../src/transports/pty.js';
import { openSerial } from '../../src/transports/serial.js';
import { type LinkServer, listenTcp } from '../../src/transports/tcp.js';
import { collector, expectSameBytes, receive, waitFor, waitForAsync } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<RtkitError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isRtkitError(e), String(e)).toBe(true);
  return e as RtkitError;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtkit-pty-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('createPtyPair', () => {
  it('makes two pty links in a fresh directory under dir; close removes it', async () => {
    const pair = await createPtyPair({ dir });
    const [a, b] = pair.paths;
    expect(a.startsWith(dir)).toBe(true);
    expect(await readlink(a)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await readlink(b)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await readlink(a)).not.toBe(await readlink(b));
    await Promise.all([pair.close(), pair.close()]);
    expect(await exists(join(a, '..'))).toBe(false);
  });

  it('no socat: TRANSPORT_CLOSED that says to install it, and nothing left behind', async () => {
    const sub = await mkdtemp(join(dir, 'nosocat-'));
    const e = await rejection(createPtyPair({ dir: sub, socat: '/nonexistent/socat' }));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.details).toMatchObject({ reason: 'socat-missing' });
    expect(e.message).toMatch(/socat is not installed.*apt-get install socat/);
    expect(await readdir(sub)).toEqual([]);
  });

  it('a directory socat could misread: BAD_INPUT', async () => {
    const e = await rejection(createPtyPair({ dir: '/tmp/a,b' }));
    expect(e.code).toBe('BAD_INPUT');
  });
});

describe('bridgePtyToTcp', () => {
  let server: LinkServer;
  const accepted: ByteLink[] = [];
  beforeAll(async () => {
    server = await listenTcp('127.0.0.1', 0, (link) => accepted.push(link));
  });
  afterAll(() => server.close());

  it('open, talk, close, open again, talk: one TCP connection serves every run', async () => {
    const path = join(dir, 'm1n1-a');
    const before = accepted.length;
    const bridge = await bridgePtyToTcp(path, '127.0.0.1', server.address.port);
    try {
      expect(bridge.path).toBe(path);
      await waitFor(() => accepted.length === before + 1, 'the bridge to connect');
      const remote = accepted[before]!;
      const atServer = collector(remote);
      let expected = 0;
      for (let run = 0; run < 3; run++) {
        // What m1n1's tooling does per run: open the path, request, read the reply, close.
        const pty = await openSerial(path);
        const atPty = collector(pty);
        const request = Uint8Array.of(0xff, 0x55, 0xaa, run, 0x0a, 0x11, 0x13);
        await pty.write(request);
        expected += request.length;
        const got = await receive(atServer, expected, 'the server');
        expectSameBytes(got.subarray(expected - request.length), request, `run ${run} request`);
        const reply = Uint8Array.of(run, 0x0d, 0x0a, 0xff);
        await remote.write(reply);
        expectSameBytes(await receive(atPty, reply.length, 'the pty'), reply, `run ${run} reply`);
        await pty.close();
      }
      expect(accepted.length).toBe(before + 1);
      expect(remote.closed).toBe(false);
    } finally {
      await bridge.close();
    }
    await waitFor(() => accepted[before]!.closed, 'the server to see the bridge go');
    expect(await exists(path)).toBe(false);
    await bridge.close();
  });

  it('restarts when the server drops the connection; the path works again', async () => {
    const path = join(dir, 'm1n1-b');
    const before = accepted.length;
    const bridge = await bridgePtyToTcp(path, '127.0.0.1', server.address.port);
    try {
      await waitFor(() => accepted.length === before + 1, 'the first connection');
      await accepted[before]!.close();
      await waitFor(() => accepted.length === before + 2, 'the bridge to reconnect');
      await waitFor(() => !accepted[before + 1]!.closed, 'the new connection');
      const remote = accepted[before + 1]!;
      const atServer = collector(remote);
      await waitForAsync(() => exists(path), 'the pty path to come back');
      const pty = await openSerial(path);
      await pty.write(Uint8Array.of(7, 8, 9));
      expectSameBytes(await receive(atServer, 3, 'the server'), Uint8Array.of(7, 8, 9), 'after');
      await pty.close();
    } finally {
      await bridge.close();
    }
    expect(await exists(path)).toBe(false);
  });

  it('connect refused: TRANSPORT_CLOSED (ECONNREFUSED), no path left', async () => {
    const other = await listenTcp('127.0.0.1', 0, () => {});
    const port = other.address.port;
    await other.close();
    const path = join(dir, 'm1n1-refused');
    const e = await rejection(bridgePtyToTcp(path, '127.0.0.1', port));
    expect(e.code).toBe('TRANSPORT_CLOSED');
    expect(e.details).toMatchObject({ code: 'ECONNREFUSED' });
    expect(await exists(path)).toBe(false);
  });

  it('never replaces a file or a non-pty link at the path; replaces a stale pty link', async () => {
    const file = join(dir, 'precious');
    await writeFile(file, 'keep me');
    const e1 = await rejection(bridgePtyToTcp(file, '127.0.0.1', server.address.port));
    expect(e1.code).toBe('BAD_INPUT');
    expect(await readFile(file, 'utf8')).toBe('keep me');

    const udevLike = join(dir, 'm1n1-udev');
    await symlink('ttyACM0', udevLike);
    const e2 = await rejection(bridgePtyToTcp(udevLike, '127.0.0.1', server.address.port));
    expect(e2.code).toBe('BAD_INPUT');
    expect(await readlink(udevLike)).toBe('ttyACM0');

    const stale = join(dir, 'm1n1-stale');
    await symlink('/dev/pts/9999', stale);
    const bridge = await bridgePtyToTcp(stale, '127.0.0.1', server.address.port);
    expect(await readlink(stale)).not.toBe('/dev/pts/9999');
    await bridge.close();
  });

  it('bad arguments: BAD_INPUT', async () => {
    for (const [path, host, port] of [
      ['/tmp/a:b', '127.0.0.1', 1],
      ['/tmp/a,b', '127.0.0.1', 1],
      [join(dir, 'x'), 'bad host', 1],
      [join(dir, 'x'), '127.0.0.1', 0],
    ] as const) {
      const e = await rejection(bridgePtyToTcp(path, host, port));
      expect(e.code, `${path} ${host} ${port}`).toBe('BAD_INPUT');
    }
  });
});
