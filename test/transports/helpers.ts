/** Helpers for the byte-link tests: seeded bytes, bounded waits, byte collectors. */

import type { ByteLink } from '../../src/m1n1/link.js';

/** Deterministic bytes (xorshift32). */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** A seeded generator of integers in [lo, hi]. */
export function seededInts(seed: number, lo: number, hi: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) % (hi - lo + 1));
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `cond` until true; fail with `what` after `ms` (a bound, not a speed assertion). */
export async function waitFor(
  cond: () => boolean,
  what: string | (() => string),
  ms = 5000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await sleep(5);
  }
}

/** `waitFor` with an asynchronous condition. */
export async function waitForAsync(
  cond: () => Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Everything `link` receives, from now on. */
export function collector(link: ByteLink): { bytes(): Uint8Array; readonly length: number } {
  const chunks: Uint8Array[] = [];
  let length = 0;
  link.onData((chunk) => {
    chunks.push(chunk.slice());
    length += chunk.length;
  });
  return {
    get length() {
      return length;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

/** Wait until `n` bytes arrived, then return exactly what arrived. */
export async function receive(
  c: { bytes(): Uint8Array; readonly length: number },
  n: number,
  what: string,
  ms = 8000,
): Promise<Uint8Array> {
  await waitFor(
    () => c.length >= n,
    () => `${n} bytes on ${what} (got ${c.length})`,
    ms,
  );
  return c.bytes();
}

/** Byte-exact comparison with a readable failure: the first differing offset. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length === expected.length && Buffer.compare(actual, expected) === 0) return;
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  const hex = (b: Uint8Array) => Buffer.from(b.subarray(i, i + 8)).toString('hex');
  throw new Error(
    `${what}: ${actual.length} bytes, expected ${expected.length}; first difference at ${i}: ${hex(actual)} vs ${hex(expected)}`,
  );
}

/** Counts of the libuv handles a link may hold, to show that closing releases them. */
export function handleCounts(): Record<string, number> {
  const watched = new Set([
    'TCPSocketWrap',
    'TCPServerWrap',
    'TTYWrap',
    'ProcessWrap',
    'PipeWrap',
    'Timeout',
  ]);
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (watched.has(r)) counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}
