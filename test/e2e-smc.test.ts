// Issue acceptance for the SMC client on the whole stack: the simulated M1 SMC (SimSoc, strict
// mode) driven through its mailbox registers by the host library (RtkitSession over
// AscMailboxDriver, buffers from strategiesFor), and the SmcClient on the session's endpoint
// handle for 0x20 with the SRAM window reached through MMIO. Every key of the profile is
// enumerated and read back with its typed value, a writable key is written and read back, a
// notification arrives; not one strict-mode violation, DMA fault or session warning.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../src/clock.js';
import { SmcClient, type SmcNotification, SmcResult } from '../src/drivers/smc/index.js';
import { isRtkitError } from '../src/errors.js';
import { RtkitSession, type WarningEvent } from '../src/host/index.js';
import { mmioSram } from '../src/host/shmem/sram.js';
import { AscMailboxDriver } from '../src/mailbox/asc-driver.js';
import { smcProfile } from '../src/sim/profiles/smc.js';
import {
  createSmcEndpoint,
  SmcButton,
  type SmcEndpoint,
  SmcEvent,
} from '../src/sim/profiles/smc-app.js';
import {
  decodeKeyValue,
  defaultKeyTable,
  type KeyDef,
  SmcKeyFlag,
  sortKeys,
} from '../src/sim/profiles/smc-keys.js';
import { SimSoc } from '../src/sim/soc.js';
import { strategiesFor } from '../src/wiring/sim-host.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Rig {
  soc: SimSoc;
  session: RtkitSession;
  warnings: WarningEvent[];
  /** The SMC model of the current firmware session (a new one after every handshake). */
  model(): SmcEndpoint;
  open(): Promise<SmcClient>;
}

async function bootSmc(version: number): Promise<Rig> {
  const soc = new SimSoc({ seed: 3 });
  const stop = soc.clock.autoAdvance();
  // The profile is built here, not taken by name, so that the test keeps a handle on the model
  // behind endpoint 0x20 (the firmware exposes no accessor for its application models).
  let model: SmcEndpoint | undefined;
  const apps = (): SmcEndpoint[] => {
    model = createSmcEndpoint();
    return [model];
  };
  const profile = { ...smcProfile(), apps };
  const cp = soc.add({ profile });
  const driver = new AscMailboxDriver({
    mmio: soc.mmio,
    base: cp.mailboxBase,
    clock: soc.clock,
    interrupts: cp.asc.interrupts,
  });
  const warnings: WarningEvent[] = [];
  const session = new RtkitSession({
    transport: driver,
    clock: soc.clock,
    strategies: strategiesFor(soc, cp),
    cpu: { mmio: soc.mmio, ascBase: cp.ascBase },
    coproc: 'smc',
    name: 'smc',
    maxVersion: version,
    listeners: { warning: (w) => warnings.push(w) },
  });
  cleanups.push(async () => {
    await session.close();
    await driver.close();
    cp.firmware.dispose();
    stop();
  });
  await session.boot();
  expect(session.version).toBe(version);
  const sram = cp.profile.placement.sram!;
  return {
    soc,
    session,
    warnings,
    model: () => model!,
    open: async () =>
      SmcClient.open(await session.openEndpoint(0x20), {
        sram: mmioSram(soc.mmio, sram.base, sram.size),
        clock: soc.clock,
      }),
  };
}

/** The typed value `decodeKeyValue` gives for the table's bytes, in the client's shape. */
function expected(def: KeyDef, now: number): unknown {
  const bytes = def.read ? def.read({ now, value: def.value, get: () => undefined }) : def.value;
  if (typeof bytes === 'number') throw new Error(`${def.key}: read hook refused`);
  const v = decodeKeyValue(def, bytes);
  return v instanceof Uint8Array ? { type: def.type, bytes: v } : v;
}

/** A 48-bit little-endian counter (CLKM). */
function u48(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 5; i >= 0; i--) v = v * 256 + bytes[i]!;
  return v;
}

function checkClean(r: Rig): void {
  expect(r.soc.violations()).toEqual([]);
  expect(r.soc.faults.faults).toEqual([]);
  expect(r.warnings).toEqual([]);
}

describe('SMC end to end: SmcClient → RtkitSession → mailbox registers → simulated SMC', () => {
  for (const version of [11, 12]) {
    it(`v${version}: enumerates and reads every key of the profile with its typed value`, async () => {
      const r = await bootSmc(version);
      const smc = await r.open();
      const table = sortKeys(defaultKeyTable());
      expect(await smc.keyCount()).toBe(table.length);
      expect(await smc.listKeys()).toEqual(table.map((d) => d.key));

      let readable = 0;
      for (const def of table) {
        const info = await smc.getKeyInfo(def.key);
        expect(info).toEqual({
          key: def.key,
          size: def.size,
          type: def.type,
          flags: def.flags,
          readable: (def.flags & SmcKeyFlag.Readable) !== 0,
          writable: (def.flags & SmcKeyFlag.Writable) !== 0,
          functionKey: (def.flags & SmcKeyFlag.Function) !== 0,
        });
        if (!info.readable) {
          // MBSE: write-only action key.
          const e = await smc.read(def.key).catch((x: unknown) => x);
          expect(isRtkitError(e, 'SMC_ERROR'), def.key).toBe(true);
          expect((e as { details: Record<string, unknown> }).details['result']).toBe(
            SmcResult.KeyNotReadable,
          );
          continue;
        }
        readable++;
        const t0 = r.soc.clock.now();
        const value = await smc.read(def.key);
        const t1 = r.soc.clock.now();
        if (def.key === 'CLKM') {
          // The RTC runs on the virtual clock: its value lies between the two instants.
          const got = u48((value as { bytes: Uint8Array }).bytes);
          const lo = u48((expected(def, t0) as { bytes: Uint8Array }).bytes);
          const hi = u48((expected(def, t1) as { bytes: Uint8Array }).bytes);
          expect(got).toBeGreaterThanOrEqual(lo);
          expect(got).toBeLessThanOrEqual(hi);
          continue;
        }
        expect([def.key, value]).toEqual([def.key, expected(def, t1)]);
      }
      expect(readable).toBe(table.length - 1);

      // A few by hand, so that a codec shared by the model and the client cannot hide a bug.
      expect(await smc.read('#KEY')).toBe(60);
      expect(await smc.read('B0AV')).toBe(12604);
      expect(await smc.read('B0RM')).toBe(3478);
      expect(await smc.read('BAAC')).toBe(1_234_567n);
      expect(await smc.read('TG0B')).toBe(45.5);
      expect(await smc.read('BMDN')).toBe('SimBattery');
      expect(await smc.read('CHCE')).toBe(true);

      // All of it crossed the mailbox registers: each key is a GET_KEY_BY_INDEX, a GET_KEY_INFO
      // and a READ_KEY, each with its reply.
      const onSmc = r.soc.traceLines().filter((l) => l.includes('"ep":32,'));
      expect(onSmc.length).toBeGreaterThan(6 * table.length);

      await smc.close();
      await r.session.shutdown();
      checkClean(r);
    });
  }

  it('writes writable keys and reads them back; the model holds the new values', async () => {
    const r = await bootSmc(12);
    const smc = await r.open();
    const table = defaultKeyTable();
    const def = (key: string): KeyDef => table.find((d) => d.key === key)!;

    expect(await smc.read('F0Tg')).toBe(2000);
    await smc.write('F0Tg', 3000);
    expect(await smc.read('F0Tg')).toBe(3000);
    expect(decodeKeyValue(def('F0Tg'), r.model().keyValue('F0Tg'))).toBe(3000);

    await smc.write('CHLS', 80);
    expect(await smc.read('CHLS')).toBe(80);
    expect(decodeKeyValue(def('CHLS'), r.model().keyValue('CHLS'))).toBe(80);

    // A read-only key is refused by the SMC, and its value is unchanged.
    const e = await smc.write('B0AV', 1).catch((x: unknown) => x);
    expect(isRtkitError(e, 'SMC_ERROR')).toBe(true);
    expect(await smc.read('B0AV')).toBe(12604);

    await smc.close();
    await r.session.shutdown();
    checkClean(r);
  });

  it('receives notifications once enabled (NTAP = 1), none before', async () => {
    const r = await bootSmc(12);
    const smc = await r.open();
    const got: SmcNotification[] = [];
    smc.onNotification((n) => got.push(n));

    expect(r.model().notify(SmcEvent.Button, SmcButton.Power, 1)).toBe(false);
    await smc.enableNotifications();
    expect(smc.notificationsEnabled).toBe(true);
    expect(r.model().notificationsEnabled).toBe(true);
    expect(await smc.read('NTAP')).toBe(true);

    expect(r.model().notify(SmcEvent.Button, SmcButton.Power, 1)).toBe(true);
    expect(r.model().notify(SmcEvent.Lid, 0x01, 1)).toBe(true);
    await sleep(r.soc.clock, 5);
    expect(got).toEqual([
      {
        kind: 'button',
        event: 0x7201,
        subcode: 0x01,
        data: 1,
        word: 0x7201010100000018n,
        button: 'power',
        pressed: true,
      },
      { kind: 'lid', event: 0x7203, subcode: 0x01, data: 1, word: 0x7203010100000018n },
    ]);

    // A notification in the middle of a command is not taken for its reply.
    const read = smc.read('B0AV');
    r.model().notify(SmcEvent.Button, SmcButton.TouchId, 0);
    expect(await read).toBe(12604);
    await sleep(r.soc.clock, 5);
    expect(got.at(-1)).toMatchObject({ kind: 'button', button: 'touchId', pressed: false });

    await smc.close();
    expect(r.model().notificationsEnabled).toBe(false);
    await r.session.shutdown();
    checkClean(r);
  });
});
