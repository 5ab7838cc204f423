/**
 * IOP and AP power states (PROTOCOL.md §4.1). Names are Linux's; QEMU's differ (§12 row 12).
 */
export const PowerState = {
  Off: 0x000,
  Sleep: 0x001,
  Quiesced: 0x010,
  On: 0x020,
  Idle: 0x201,
  /** QEMU only ("OFF" there) [single source: QEMU]. */
  QemuOff: 0x202,
  /** Sent to start or wake the IOP; acked as 0x20 (Linux ≥ 6.15 "PWR_STATE_INIT"). */
  Init: 0x220,
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

const NAMES: Readonly<Record<number, string>> = {
  0: 'OFF',
  1: 'SLEEP',
  16: 'QUIESCED',
  32: 'ON',
  513: 'IDLE',
  514: 'OFF(qemu)',
  544: 'INIT',
};

export function powerStateName(state: number): string {
  return NAMES[state] ?? `0x${state.toString(16)}`;
}

/** "ON (0x20)": name and value, for summaries. */
export function describePowerState(state: number): string {
  const name = NAMES[state];
  const hex = `0x${state.toString(16)}`;
  return name === undefined ? hex : `${name} (${hex})`;
}
