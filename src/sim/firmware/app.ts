/**
 * The contract between the RTKit firmware model (management, system endpoints, power, crashes)
 * and an application-endpoint model (the SMC on 0x20, DCP's IOMFB on 0x37, ...). The firmware
 * owns the mailbox and the lifecycle; an application only sees its own endpoint.
 */

import type { Clock } from '../../clock.js';

/** Seeded, reproducible randomness. */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform integer in [0, n). */
  below(n: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
}

/** The co-processor's own memory an application can use (e.g. the SMC's SRAM). */
export interface LocalMemory {
  /** Device (IOP-visible) address of the region's first byte. */
  readonly base: number;
  readonly size: number;
  /** Direct access; the firmware owns this memory. */
  readonly bytes: Uint8Array;
}

export interface FirmwareServices {
  readonly clock: Clock;
  readonly rng: Rng;
  /** Co-processor name for logs and traces ("smc", "dcp0"). */
  readonly name: string;
  /** Queue a message to the AP on `ep`. Delivered in call order, through the FIFO. */
  send(ep: number, msg: bigint): void;
  /** Write a syslog entry (no-op until the syslog ring is set up and AP power is ON). */
  syslog(file: string, line: number, text: string): void;
  /** Strict mode: record a host protocol violation (never throws). */
  violation(code: string, detail: string): void;
  /** Crash the co-processor now: crashlog written, notification sent. */
  crash(reason: string): void;
  /** The co-processor's SRAM window, when the profile has one. */
  readonly sram: LocalMemory | undefined;
}

export interface AppEndpoint {
  readonly ep: number;
  /** Name for traces and docs ("SMC", "IOMFB"). */
  readonly name: string;
  /** The host sent STARTEP for this endpoint. */
  start(fw: FirmwareServices): void;
  /** The host sent STARTEP stop, or the firmware is resetting. */
  stop(): void;
  /** An AP→IOP message on this endpoint, after start. */
  message(msg: bigint): void;
}
