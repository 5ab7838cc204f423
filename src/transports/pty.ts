/**
 * Pseudo-terminals through `socat` (no native pty module): a connected pair for tests, and a
 * bridge that gives m1n1's Python tooling, which only opens serial device paths (`M1N1DEVICE`),
 * a way to reach a TCP server such as our simulator.
 *
 * socat keeps its own descriptor of each pty's slave side open, so a pty here behaves like a real
 * serial port: a program may open it, close it and open it again (m1n1's tooling does so once per
 * run) and the other side notices nothing. The flip side is that closing one end never looks like
 * a hang-up to the other; only the pty going away (socat exiting) does.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdtemp, readlink, rm, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { ErrorCode, RtkitError } from '../errors.js';
import { CLOSE_GRACE_MS } from '../m1n1/web-serial-link.js';
import {
  badInput,
  checkHost,
  checkPort,
  checkTimeout,
  DEFAULT_OPEN_TIMEOUT_MS,
  tcpDescription,
} from './common.js';

export interface PtyOptions {
  /** Bound on socat starting (and, for a bridge, connecting); default 5000 ms. */
  timeoutMs?: number;
  /** The socat program, default `socat` from PATH. */
  socat?: string;
  clock?: Clock;
}

export interface PtyPairOptions extends PtyOptions {
  /** Directory for the pair's own temporary directory (default: the OS temp dir). */
  dir?: string;
}

export interface PtyPair {
  /** Two symlinks to the pty slaves; what is written to one is read from the other. */
  readonly paths: readonly [string, string];
  /** Stop socat (links still open on the ptys see a hang-up) and remove the directory. */
  close(): Promise<void>;
}

export interface PtyBridge {
  /** The pty path to give m1n1's tooling (`M1N1DEVICE=PATH`). */
  readonly path: string;
  /** Stop bridging; the path disappears. */
  close(): Promise<void>;
}

/** socat -d -d prints this once every address is open (pty created, TCP connected). */
const READY = /starting data transfer loop/;
/** How much of socat's diagnostics is kept for error messages. */
const STDERR_TAIL = 8192;
/** Restart delays of a bridge whose socat exited (its TCP peer went away), doubling to the max. */
const RESTART_DELAY_MS = 100;
const RESTART_DELAY_MAX_MS = 2000;

/**
 * socat parses `:` `,` `!` quotes and brackets inside an address; a path is passed to it only if
 * it cannot be misread.
 */
const SOCAT_SAFE_PATH = /^[A-Za-z0-9._/+@=~-]+$/;

function checkSocatPath(path: unknown, where: string): string {
  if (typeof path !== 'string' || !SOCAT_SAFE_PATH.test(path)) {
    throw badInput(
      `${where}: path ${JSON.stringify(path)} cannot be given to socat; use letters, digits and . _ - / + @ = ~`,
      { path },
    );
  }
  return path;
}

function socatMissing(bin: string, cause: unknown): RtkitError {
  return new RtkitError(
    ErrorCode.TRANSPORT_CLOSED,
    `socat is not installed (${bin} not found); pseudo-terminals need it: apt-get install socat (Debian, Ubuntu), dnf install socat (Fedora), brew install socat (macOS)`,
    { reason: 'socat-missing', socat: bin },
    { cause },
  );
}

/** socat's last error line (`... E connect(...): Connection refused`), if any. */
function socatError(tail: string): string | undefined {
  const lines = tail.split('\n').filter((l) => / E /.test(l));
  const last = lines[lines.length - 1];
  return last?.replace(/^.* E /, '').trim();
}

/**
 * socat must not outlive us (a pty left behind holds its path), even when we are killed without
 * running any exit handler. So it runs under a POSIX-shell watchdog that holds the read end of a
 * pipe whose write end only we hold: when we close it, or the kernel does because we died, the
 * watchdog stops socat. The shell exits with socat's status (127: socat not found).
 */
const WATCHDOG = `bin=$1; shift
exec 3<&0
"$bin" "$@" </dev/null 3<&- &
pid=$!
{ read _ <&3; kill $pid 2>/dev/null; } &
watcher=$!
exec 3<&-
wait $pid
status=$?
kill $watcher 2>/dev/null
exit $status`;
/** Shell exit statuses for "command not found" and "not executable". */
const NOT_FOUND = new Set([126, 127]);

interface Socat {
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<void>;
  /** Stop socat; resolves when it exited, or after killing its process group gave up. */
  stop(): Promise<void>;
}

function startSocat(
  bin: string,
  addresses: string[],
  what: string,
  timeoutMs: number,
  clock: Clock,
): Promise<Socat> {
  return new Promise<Socat>((resolve, reject) => {
    let child: ChildProcess;
    try {
      // Own process group, so that a stuck watchdog and its socat can be killed together.
      child = spawn('/bin/sh', ['-c', WATCHDOG, 'sh', bin, '-d', '-d', ...addresses], {
        stdio: ['pipe', 'ignore', 'pipe'],
        detached: true,
      });
    } catch (e) {
      reject(
        new RtkitError(ErrorCode.TRANSPORT_CLOSED, `${what}: cannot run /bin/sh`, {}, { cause: e }),
      );
      return;
    }
    child.stdin!.on('error', () => {});
    let tail = '';
    let settled = false;
    let gone = false;
    const exited = new Promise<void>((done) => {
      const end = (): void => {
        gone = true;
        done();
      };
      child.once('close', end);
      child.once('error', end);
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const socat: Socat = {
      exited,
      stop: async () => {
        if (gone) return;
        child.stdin!.end();
        if (await within(exited, CLOSE_GRACE_MS, clock)) return;
        killGroup();
        await within(exited, CLOSE_GRACE_MS, clock);
      },
    };
    const fail = (error: RtkitError): void => {
      if (settled) return;
      settled = true;
      clock.clearTimer(timer);
      void socat.stop();
      reject(error);
    };
    const timer = clock.setTimer(timeoutMs, () =>
      fail(
        new RtkitError(
          ErrorCode.TRANSPORT_TIMEOUT,
          `${what}: socat not ready after ${timeoutMs} ms`,
          { timeoutMs, stderr: tail },
        ),
      ),
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      tail = (tail + text).slice(-STDERR_TAIL);
      if (!settled && READY.test(tail)) {
        settled = true;
        clock.clearTimer(timer);
        resolve(socat);
      }
    });
    child.once('error', (e: Error) => {
      fail(
        new RtkitError(
          ErrorCode.TRANSPORT_CLOSED,
          `${what}: cannot run /bin/sh: ${e.message}`,
          {},
          {
            cause: e,
          },
        ),
      );
    });
    child.once('close', (code: number | null, signal: string | null) => {
      if (code !== null && NOT_FOUND.has(code)) {
        fail(socatMissing(bin, tail.trim()));
        return;
      }
      const reason = socatError(tail) ?? `socat exited (${signal ?? `status ${code}`})`;
      fail(
        new RtkitError(ErrorCode.TRANSPORT_CLOSED, `${what}: ${reason}`, {
          reason,
          ...(/Connection refused/i.test(reason) ? { code: 'ECONNREFUSED' } : {}),
          stderr: tail,
        }),
      );
    });
  });
}

/** True if `p` settled within `ms`. */
function within(p: Promise<void>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = clock.setTimer(ms, () => resolve(false));
    void p.then(() => {
      clock.clearTimer(timer);
      resolve(true);
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Create a connected pair of pseudo-terminals (`socat pty,rawer,link=A pty,rawer,link=B`) in a
 * fresh temporary directory; resolves when both paths exist. Open each with `openSerial`.
 * No socat: TRANSPORT_CLOSED saying to install it.
 */
export async function createPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, 'createPtyPair');
  const clock = opts.clock ?? systemClock;
  const bin = opts.socat ?? 'socat';
  const base = checkSocatPath(opts.dir ?? tmpdir(), 'createPtyPair');
  const dir = checkSocatPath(await mkdtemp(join(base, 'rtkit-pty-')), 'createPtyPair');
  const paths = [join(dir, 'a'), join(dir, 'b')] as const;
  let socat: Socat;
  try {
    socat = await startSocat(
      bin,
      paths.map((p) => `pty,rawer,link=${p}`),
      'createPtyPair',
      timeoutMs,
      clock,
    );
    if (!(await exists(paths[0])) || !(await exists(paths[1]))) {
      await socat.stop();
      throw new RtkitError(ErrorCode.TRANSPORT_CLOSED, 'createPtyPair: socat made no pty links', {
        paths,
      });
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    paths,
    close: () => {
      closing ??= (async () => {
        await socat.stop();
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/**
 * Make `path` free for socat's link without clobbering anything real: socat replaces whatever is
 * there, even a regular file or a udev symlink like /dev/m1n1. Only a stale link to a pty (a
 * crashed bridge's) is removed.
 */
async function claimLinkPath(path: string): Promise<void> {
  let isLink: boolean;
  try {
    isLink = (await lstat(path)).isSymbolicLink();
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return;
    throw badInput(`bridgePtyToTcp: cannot use ${path}: ${(e as Error).message}`, { path });
  }
  const target = isLink ? await readlink(path) : '';
  if (!isLink || !/^\/dev\/(pts\/\d+|ttys\d+|ttyp\w+)$/.test(target)) {
    throw badInput(
      `bridgePtyToTcp: ${path} already exists and is not a stale pty link; refusing to replace it`,
      {
        path,
        ...(isLink ? { target } : {}),
      },
    );
  }
  await unlink(path).catch(() => {});
}

/**
 * Bridge a new pty at `path` to `tcp:HOST:PORT` (`socat pty,rawer,link=PATH tcp:HOST:PORT`), so
 * that m1n1's Python tooling (`M1N1DEVICE=PATH`) reaches a TCP server. Resolves once socat has
 * connected; a refused connect rejects with TRANSPORT_CLOSED.
 *
 * One TCP connection serves every run of the tooling: socat holds the pty's slave side, so the
 * tool opening and closing the path per run does not end the bridge, just as closing a real
 * serial port does not reset m1n1. If the TCP connection ends (the server restarted), socat is
 * restarted with a growing delay until `close()`; the path is missing meanwhile.
 */
export async function bridgePtyToTcp(
  path: string,
  host: string,
  port: number,
  opts: PtyOptions = {},
): Promise<PtyBridge> {
  checkSocatPath(path, 'bridgePtyToTcp');
  const bare = checkHost(host, 'bridgePtyToTcp');
  checkPort(port, 'bridgePtyToTcp');
  const timeoutMs = checkTimeout(opts.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS, 'bridgePtyToTcp');
  const clock = opts.clock ?? systemClock;
  const bin = opts.socat ?? 'socat';
  const target = `tcp:${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`;
  const what = `bridging ${path} to ${tcpDescription(bare, port)}`;
  const start = async (): Promise<Socat> => {
    await claimLinkPath(path);
    return startSocat(bin, [`pty,rawer,link=${path}`, target], what, timeoutMs, clock);
  };

  let current = await start();
  let closed = false;
  let delay = RESTART_DELAY_MS;
  let timer: TimerHandle | undefined;
  let restarting: Promise<void> | undefined;
  const supervise = (socat: Socat): void => {
    void socat.exited.then(() => {
      if (!closed) schedule();
    });
  };
  const schedule = (): void => {
    timer = clock.setTimer(delay, () => {
      timer = undefined;
      delay = Math.min(delay * 2, RESTART_DELAY_MAX_MS);
      restarting = start().then(
        async (socat) => {
          if (closed) return socat.stop();
          current = socat;
          delay = RESTART_DELAY_MS;
          supervise(socat);
        },
        () => {
          if (!closed) schedule();
        },
      );
    });
  };
  supervise(current);

  let closing: Promise<void> | undefined;
  return {
    path,
    close: () => {
      closing ??= (async () => {
        closed = true;
        if (timer !== undefined) clock.clearTimer(timer);
        await restarting;
        await current.stop();
      })();
      return closing;
    },
  };
}
