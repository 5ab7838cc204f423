// Acceptance: 10 000 seeded sequences of the simulator's hostile mode (`hostile:ms=…,count=…`)
// combined with generated fault mixes (drop, delay, dup, corrupt, withhold, crash-at/after,
// buffer, syslog, stall and ack faults, in the grammar's string form), against a session that
// boots, exchanges traffic and then shuts down, recovers, powers off, idles and wakes, quiesces,
// reinitialises or closes. Each sequence builds a fresh SoC, co-processor, driver and session
// (nothing is reused but code) on one of three memory paths: generic behind a DART (host
// allocates, echo endpoint), ans behind the SART, dcp with firmware-owned buffers in a DART window.
//
// Properties checked after every sequence:
//  1. Nothing escapes: no unhandled rejection, the transport's receiver never threw, no
//     HANDLER_FAILED (our listeners never throw, so one would be an internal error of the
//     session), every rejection is an RtkitError (typed).
//  2. Every operation started settles by its virtual deadline: the per-step timeouts summed over
//     the steps it can take (`bounds` below), plus 5 ms of polling slack.
//  3. DMA: no fault the simulated memory recorded touches a buffer the host held at that
//     instant (granted and not yet being released). Faults elsewhere are explained: the
//     firmware's own address that the host refused (hostile buffer requests, `iova=` faults), or a
//     buffer the host had already revoked (a hostile HELLO makes the host start a new firmware
//     session and release everything while the real firmware keeps writing). In addition the
//     IOMMU stream / SART hold exactly the live grants (`mappingProblems`), and host DRAM holds
//     exactly the live host-allocated grants.
//  4. Memory bounded: the session's receive queue is empty once the clock has run, at most one
//     live buffer per buffer endpoint (1, 2, 4, 8), the driver buffers nothing, request
//     deadlines held ≤ requests made, and warnings are at most 3 per received message, plus 31
//     (unknown system endpoints) per HELLO, plus 8.
//  5. Nothing is written to the mailbox while the session considers the co-processor crashed.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { macrotask, sleep } from '../../src/clock.js';
import { isRtkitError } from '../../src/errors.js';
import { BOOT_STEPS } from '../../src/sim/faults.js';
import type { FirmwareProfile } from '../../src/sim/firmware/types.js';
import { type AccRig, accRig, dmaProblems, genericDart, mappingProblems } from './rig.js';

const SEQUENCES = 10_000;
const BLOCKS = 4;
const T = 40; // session step timeout (ms of virtual time)
const S = 20; // mailbox send timeout
const SLACK = 5;
const SYSTEM_EPS = 6;

/** Upper bounds (virtual ms) of every operation, from the steps it can take. */
const BOOT = 5 * T + 2 * S * (SYSTEM_EPS + 2);
const bounds = {
  boot: BOOT,
  wake: BOOT,
  recover: BOOT,
  shutdown: 2 * (S + T),
  quiesce: 2 * (S + T),
  powerOff: 2 * (S + T),
  idle: 2 * (S + T),
  reinit: 0,
  ping: T,
  request: T,
  send: S,
  startEndpoint: S,
  openEndpoint: S,
} as const;
type Op = keyof typeof bounds;

const GENERIC_DART = genericDart();
const PROFILES: Record<string, FirmwareProfile | 'ans' | 'dcp'> = {
  'generic-dart': GENERIC_DART,
  ans: 'ans',
  dcp: 'dcp',
};

// ------------------------------------------------------------------------------ generators

const hexArb = (max: number) => fc.integer({ min: 0, max }).map((n) => `0x${n.toString(16)}`);
const epArb = fc.constantFrom(0, 1, 2, 3, 4, 8, 0x20, 0x25);
const filterArb = fc
  .record(
    {
      ep: epArb,
      dir: fc.constantFrom('out', 'in', 'both'),
      count: fc.integer({ min: 1, max: 5 }),
      skip: fc.integer({ min: 0, max: 5 }),
      p: fc.constantFrom(0.1, 0.3, 0.5, 1),
    },
    { requiredKeys: [] },
  )
  .map((f) =>
    Object.entries(f)
      .map(([k, v]) => `,${k}=${v}`)
      .join(''),
  );

/**
 * A well-formed-looking word on a system endpoint (a valid TYPE, random fields): reaches the
 * session's decoders far more often than the hostile clause's uniformly random words.
 */
const structuredSendArb = fc
  .tuple(
    fc.constantFrom(0, 1, 2, 3, 4, 8, 0xa, 0x20),
    fc.integer({ min: 0, max: 15 }),
    fc.bigInt({ min: 0n, max: (1n << 52n) - 1n }),
    fc.constantFrom(0xffffn, 0xffff_ffffn, (1n << 52n) - 1n),
    fc.oneof(
      fc.integer({ min: 0, max: 300 }).map((ms) => `after=${ms}`),
      fc.constantFrom(...BOOT_STEPS).map((st) => `at=${st}`),
    ),
    fc.integer({ min: 1, max: 3 }),
  )
  .map(([ep, type, fields, mask, when, count]) => {
    // OSLog's TYPE is [63:56]; every other codec's is [59:52].
    const w =
      ep === 8 ? (BigInt(type) << 56n) | (fields & mask) : (BigInt(type) << 52n) | (fields & mask);
    return `send:ep=${ep},msg=0x${w.toString(16)},${when},count=${count}`;
  });

/** One fault clause in the grammar's string form (docs/sim-firmware.md). */
const clauseArb: fc.Arbitrary<string> = fc.oneof(
  structuredSendArb,
  structuredSendArb,
  filterArb.map((f) => `drop:${f.slice(1) || 'count=1'}`),
  fc.tuple(fc.integer({ min: 1, max: 60 }), filterArb).map(([ms, f]) => `delay:ms=${ms}${f}`),
  fc.tuple(fc.integer({ min: 1, max: 3 }), filterArb).map(([n, f]) => `dup:copies=${n}${f}`),
  fc
    .tuple(
      fc.oneof(
        fc.integer({ min: 0, max: 63 }).map((b) => `bit=${b}`),
        hexArb(0xffff).map((x) => `xor=${x}`),
      ),
      filterArb,
    )
    .map(([how, f]) => `corrupt:${how}${f}`),
  fc.constantFrom(
    'withhold=hello',
    'withhold=iop-ack',
    'withhold=ap-ack',
    'withhold=power-down-ack',
  ),
  fc.constantFrom(...BOOT_STEPS).map((s) => `crash-at=${s}`),
  fc.integer({ min: 0, max: 400 }).map((ms) => `crash-after=${ms}`),
  fc
    .tuple(
      fc.constantFrom(1, 2, 4, 8),
      fc.oneof(
        fc.constantFrom('pages=0', 'pages=255', 'pages=2', 'iova=collide', 'iova=outside'),
        hexArb(0xf_ffff_ffff).map((x) => `iova=${x}`),
        fc.integer({ min: 2, max: 20 }).map((n) => `repeat=${n},then=3`),
      ),
    )
    .map(([ep, what]) => `buffer:ep=${ep},${what}`),
  fc
    .tuple(fc.integer({ min: 0, max: 300 }), fc.constantFrom(0, 0x10, 0x40, 0x80, 0xff, 0x1000))
    .map(([count, size]) => `syslog-init:count=${count},size=${size}`),
  fc.constant('syslog-init:never'),
  fc.integer({ min: 0, max: 300 }).map((i) => `syslog-index:index=${i}`),
  fc
    .tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 300 }))
    .map(([after, ms]) => `stall:after=${after},ms=${ms}`),
  fc.constantFrom('ack:iop=0x10,count=1', 'ack:ap=0x10', 'ack:iop=0x0,count=2', 'ack:iop=0x220'),
  fc.integer({ min: 0, max: 255 }).map((p) => `crash-notify:pages=${p}`),
  fc.constantFrom(
    'epmap:words=0x00800000ffffffff*3+0x0088000100000001',
    'epmap:words=0x0088000780000000',
    'epmap:words=0x008800000000033e',
  ),
);

const ACTIONS = ['ping', 'request', 'send', 'startEndpoint', 'openEndpoint'] as const;
const ENDINGS = [
  'shutdown',
  'recover',
  'powerOff',
  'idle-wake',
  'quiesce',
  'reinit',
  'close',
] as const;

const planArb = fc.record({
  profile: fc.constantFrom('generic-dart', 'generic-dart', 'ans', 'dcp'),
  seed: fc.integer({ min: 1, max: 0x7fff_ffff }),
  hostile: fc.record({
    ms: fc.integer({ min: 1, max: 20 }),
    count: fc.integer({ min: 1, max: 60 }),
    eps: fc.constantFrom('any', 'discovered'),
  }),
  clauses: fc.array(clauseArb, { maxLength: 4 }),
  actions: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 6 }),
  waitMs: fc.integer({ min: 0, max: 150 }),
  ending: fc.constantFrom(...ENDINGS),
});
type Plan = typeof planArb extends fc.Arbitrary<infer P> ? P : never;

function specOf(p: Plan): string {
  const h = p.hostile;
  return [`seed=${p.seed}`, `hostile:ms=${h.ms},count=${h.count},eps=${h.eps}`, ...p.clauses].join(
    ';',
  );
}

// ------------------------------------------------------------------------------ one sequence

interface Tracked {
  readonly op: Op | 'close';
  readonly start: number;
  readonly bound: number;
  settledAt: number | undefined;
  error: unknown;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

const totals = {
  sequences: 0,
  booted: 0,
  crashed: 0,
  ops: 0,
  rejected: 0,
  faults: 0,
  faultsRevoked: 0,
  faultsNeverGranted: 0,
  virtualMs: 0,
  codes: new Map<string, number>(),
};

function fail(plan: Plan, what: string): never {
  throw new Error(
    `${what}\n  profile ${plan.profile}, faults "${specOf(plan)}", plan ${JSON.stringify(plan)}`,
  );
}

async function runSequence(plan: Plan): Promise<void> {
  const r: AccRig = accRig({
    profile: PROFILES[plan.profile]!,
    seed: plan.seed,
    faults: specOf(plan),
    soc: { record: false },
    session: { timeoutMs: T, sendTimeoutMs: S },
  });
  const s = r.session;
  // Intervals during which the session considered the co-processor crashed.
  const crashedSpans: { from: number; to: number }[] = [];
  s.on('state', (e) => {
    const last = crashedSpans.at(-1);
    if (e.state.crashed && (last === undefined || last.to !== Number.POSITIVE_INFINITY)) {
      crashedSpans.push({ from: r.clock.now(), to: Number.POSITIVE_INFINITY });
    } else if (!e.state.crashed && last !== undefined && last.to === Number.POSITIVE_INFINITY) {
      last.to = r.clock.now();
    }
  });
  const tracked: Tracked[] = [];
  const track = <V>(op: Op | 'close', p: Promise<V>): Promise<V | undefined> => {
    const t: Tracked = {
      op,
      start: r.clock.now(),
      bound: op === 'close' ? 0 : bounds[op],
      settledAt: undefined,
      error: undefined,
    };
    tracked.push(t);
    return p.then(
      (v) => {
        t.settledAt = r.clock.now();
        return v;
      },
      (e: unknown) => {
        t.settledAt = r.clock.now();
        t.error = e;
        return undefined;
      },
    );
  };
  try {
    await track('boot', s.boot());
    if (s.running) totals.booted++;
    let w = 0n;
    const traffic: Promise<unknown>[] = [];
    for (const a of plan.actions) {
      w++;
      switch (a) {
        case 'ping':
          traffic.push(track('ping', s.ping()));
          break;
        case 'request':
          traffic.push(
            track(
              'request',
              s.request(0x20, w, (x) => x === w, { timeoutMs: T }),
            ),
          );
          break;
        case 'send':
          traffic.push(track('send', s.send(w % 2n === 0n ? 0 : 0x20, 0x0030000000000000n | w)));
          break;
        case 'startEndpoint':
          traffic.push(track('startEndpoint', s.startEndpoint(0x20)));
          break;
        case 'openEndpoint':
          traffic.push(track('openEndpoint', s.openEndpoint(0x20)));
          break;
      }
    }
    await sleep(r.clock, plan.waitMs);
    switch (plan.ending) {
      case 'shutdown':
        await track('shutdown', s.shutdown());
        break;
      case 'recover':
        await track('recover', s.recover());
        break;
      case 'powerOff':
        await track('powerOff', s.powerOff());
        break;
      case 'idle-wake':
        await track('idle', s.idle());
        await track('wake', s.wake());
        break;
      case 'quiesce':
        await track('quiesce', s.quiesce());
        break;
      case 'reinit':
        await track('reinit', s.reinit());
        break;
      case 'close':
        // Close with traffic possibly pending: everything settles at once (SESSION_CLOSED).
        await track('close', s.close());
        break;
    }
    await Promise.all(traffic);
    // Let the firmware and the receive loop run on (hostile words keep coming).
    const latest = Math.max(...tracked.map((t) => t.start + t.bound));
    await sleep(r.clock, Math.max(0, latest - r.clock.now()) + 20);
    await macrotask();

    // 1. Nothing escapes.
    if (unhandled.length > 0) fail(plan, `unhandled rejection: ${String(unhandled[0])}`);
    if (r.driver.stats.receiverErrors !== 0) fail(plan, 'the session receiver threw');
    const handlerFailed = r.warnings.find((x) => x.code === 'HANDLER_FAILED');
    if (handlerFailed) fail(plan, `HANDLER_FAILED: ${handlerFailed.message}`);
    // 2. Every operation settled by its deadline, typed.
    for (const t of tracked) {
      totals.ops++;
      if (t.settledAt === undefined) fail(plan, `${t.op} started at ${t.start} never settled`);
      if (t.settledAt - t.start > t.bound + SLACK) {
        fail(plan, `${t.op} took ${t.settledAt - t.start} ms (bound ${t.bound} ms)`);
      }
      if (t.error !== undefined) {
        totals.rejected++;
        if (!isRtkitError(t.error)) fail(plan, `${t.op} rejected untyped: ${String(t.error)}`);
        totals.codes.set(t.error.code, (totals.codes.get(t.error.code) ?? 0) + 1);
      }
    }
    // 3. DMA confined to what the host holds; mappings exactly the live grants.
    const onHeld = dmaProblems(r, [{ base: 0, size: 2 ** 44 }]);
    if (onHeld.length > 0) fail(plan, `DMA: ${onHeld[0]}`);
    for (const { fault } of r.ledger.faults) {
      totals.faults++;
      const revoked = r.ledger.grants.some(
        (g) =>
          g.releasedAt !== undefined &&
          fault.addr < g.device + g.bytes &&
          g.device < fault.addr + Math.max(1, fault.len),
      );
      if (revoked) totals.faultsRevoked++;
      else totals.faultsNeverGranted++;
    }
    if (plan.ending !== 'close') {
      const premapped = plan.profile === 'dcp' ? 0x100_0000 / r.soc.dart.pageSize : 0;
      const mapping = mappingProblems(r, premapped);
      if (mapping.length > 0) fail(plan, `mapping: ${mapping.join('; ')}`);
      const hostAllocated = r.ledger.live.filter((g) => g.mode === 'iommu' || g.mode === 'sart');
      if (r.soc.dram.live !== hostAllocated.length) {
        fail(plan, `DRAM: ${r.soc.dram.live} allocations for ${hostAllocated.length} live grants`);
      }
    }
    // 4. Bounded.
    if (s.stats.queued !== 0) fail(plan, `${s.stats.queued} messages still queued`);
    if (r.driver.stats.buffered !== 0) fail(plan, 'driver buffers messages');
    const live = s.buffers!.live;
    if (live > 4 || r.ledger.live.length > 4) fail(plan, `${live} live buffers`);
    // At most 3 warnings a message, plus one UNKNOWN_SYSTEM_ENDPOINT per unknown system
    // endpoint (≤ 31) each time a HELLO starts a handshake.
    const hellos = r.wire.filter((x) => x.dir === 'iop->ap' && x.ep === 0 && x.msg >> 52n === 1n);
    if (s.stats.warnings > 3 * s.stats.received + 31 * hellos.length + 8) {
      fail(plan, `${s.stats.warnings} warnings for ${s.stats.received} messages`);
    }
    if (s.stats.warnings !== r.warnings.length) fail(plan, 'warning count mismatch');
    // Settled requests are dropped lazily; never more held than requests made.
    const requests = tracked.filter((t) => t.op === 'request').length;
    if (s.stats.deadlines > requests) fail(plan, `${s.stats.deadlines} deadlines held`);
    if (s.crashed) totals.crashed++;
    // 5. Nothing reaches the mailbox of a co-processor the session knows has crashed (words
    // queued behind a full FIFO are withdrawn at the crash: robustness.test.ts §5).
    const late = r.wire.filter(
      (x) => x.dir === 'ap->iop' && crashedSpans.some((c) => x.t > c.from && x.t < c.to),
    );
    if (late.length > 0) fail(plan, `${late.length} words written while crashed`);
    totals.virtualMs += r.clock.now();
    totals.sequences++;
  } finally {
    await r.dispose();
  }
}

// ------------------------------------------------------------------------------ the property

describe(`hostile mode: ${SEQUENCES} seeded sequences`, () => {
  const t0 = performance.now();
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    const codes = [...totals.codes].sort((a, b) => b[1] - a[1]);
    console.info(
      `hostile: ${totals.sequences} sequences in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        `(${(totals.virtualMs / 1000).toFixed(0)} s virtual); ${totals.booted} booted, ` +
        `${totals.crashed} ended crashed; ${totals.ops} operations, ${totals.rejected} rejected ` +
        `(${codes.map(([c, n]) => `${c} ${n}`).join(', ')}); DMA faults ${totals.faults} ` +
        `(${totals.faultsRevoked} on revoked buffers, ${totals.faultsNeverGranted} never granted, 0 on held buffers)`,
    );
  });

  for (let b = 0; b < BLOCKS; b++) {
    it(`block ${b + 1}/${BLOCKS}: ${SEQUENCES / BLOCKS} sequences (fast-check seed ${0x5eed + b})`, async () => {
      await fc.assert(fc.asyncProperty(planArb, runSequence), {
        numRuns: SEQUENCES / BLOCKS,
        seed: 0x5eed + b,
        endOnFailure: true,
      });
    });
  }

  it('every sequence ran', () => {
    expect(totals.sequences).toBe(SEQUENCES);
    expect(totals.booted).toBeGreaterThan(SEQUENCES / 10);
  });
});
