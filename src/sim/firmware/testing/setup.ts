/** Wires a firmware model to the fake port, fake DMA and the scripted test host. */

import { VirtualClock } from '../../../clock.js';
import type { FaultInjector, FaultSpec } from '../../faults.js';
import { createRng } from '../../rng.js';
import type { AppEndpoint, LocalMemory } from '../app.js';
import { RtkitFirmware } from '../firmware.js';
import type { FirmwareProfile, FirmwareTiming, StrictOptions } from '../types.js';
import { FakeDmaPort } from './fake-dma.js';
import { FakeIopPort } from './fake-port.js';
import { TestHost, type TestHostOptions } from './test-host.js';

export interface SetupOptions {
  readonly seed?: number;
  readonly strict?: boolean | StrictOptions;
  readonly faults?: FaultSpec | string | FaultInjector;
  readonly background?: boolean;
  readonly timing?: Partial<FirmwareTiming>;
  readonly depth?: number;
  readonly apps?: readonly AppEndpoint[];
  readonly crashTriggers?: boolean;
  readonly host?: Omit<TestHostOptions, 'port' | 'clock' | 'dma'>;
  /** Map the profile's firmware IOVA window in the fake DMA (default true). */
  readonly mapFirmwareWindow?: boolean;
}

export interface Rig {
  readonly clock: VirtualClock;
  readonly port: FakeIopPort;
  readonly dma: FakeDmaPort;
  readonly sram: LocalMemory | undefined;
  readonly fw: RtkitFirmware;
  readonly host: TestHost;
}

export function setup(profile: FirmwareProfile, o: SetupOptions = {}): Rig {
  const clock = new VirtualClock();
  const port = new FakeIopPort(o.depth ?? 16);
  const dma = new FakeDmaPort(`${profile.name}/dma`);
  const w = profile.placement.firmwareIovaWindow;
  if (w && o.mapFirmwareWindow !== false) dma.map(w.base, w.size);
  const s = profile.placement.sram;
  const sram: LocalMemory | undefined = s
    ? { base: s.base, size: s.size, bytes: new Uint8Array(s.size) }
    : undefined;
  const fw = new RtkitFirmware({
    name: profile.name,
    port,
    clock,
    rng: createRng(o.seed ?? 1),
    profile,
    memory: { dma, ...(sram ? { sram: { local: sram } } : {}) },
    strict: o.strict ?? true,
    ...(o.faults !== undefined ? { faults: o.faults } : {}),
    ...(o.background !== undefined ? { background: o.background } : {}),
    ...(o.timing !== undefined ? { timing: o.timing } : {}),
    ...(o.apps !== undefined ? { apps: o.apps } : {}),
    ...(o.crashTriggers !== undefined ? { crashTriggers: o.crashTriggers } : {}),
  });
  const host = new TestHost({ port, clock, dma, coproc: profile.coproc, ...o.host });
  return { clock, port, dma, sram, fw, host };
}
