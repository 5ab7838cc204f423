/**
 * SMC notifications (PROTOCOL.md §9.4): SMC→AP words with `[7:0] = 0x18` are events, not replies.
 * The event is `[63:32]`: type `[31:16]`, sub-code `[15:8]`, data `[7:0]`. They are sent only
 * after the host wrote `NTAP` = 1.
 */

/** Event types (`[63:48]` of the word). */
export const SmcEventType = {
  /** Charger state; data = charging (macsmc-power, as read in docs/sim-smc.md) **[inferred]**. */
  Charger: 0x7101,
  /** Battery critical (macsmc-power, as read in docs/sim-smc.md) **[inferred]**. */
  BatteryCritical: 0x7102,
  /** Charge port change (macsmc-power, as read in docs/sim-smc.md) **[inferred]**. */
  PortChange: 0x7106,
  /** Power / Touch ID button (macsmc-input). */
  Button: 0x7201,
  /** Lid (macsmc-input; ML now polls `MSLD` instead). */
  Lid: 0x7203,
} as const;

/** Button sub-codes of event 0x7201 (macsmc-input, PROTOCOL.md §9.4). */
export const SmcButtonCode = {
  /** Held long, just before a forced power-off. */
  HeldLong: 0x00,
  /** Power button (e.g. Mac mini). */
  Power: 0x01,
  /** Combined Touch ID / power button. */
  TouchId: 0x06,
  /** Held briefly. */
  HeldShort: 0xfe,
} as const;

export type SmcButton = 'power' | 'touchId' | 'heldShort' | 'heldLong' | 'unknown';

interface NotificationBase {
  /** Event type, `[63:48]` of the word. */
  readonly event: number;
  /** Sub-code, `[47:40]`. */
  readonly subcode: number;
  /** Data / state, `[39:32]`. */
  readonly data: number;
  /** The raw word. */
  readonly word: bigint;
}

export interface SmcButtonNotification extends NotificationBase {
  readonly kind: 'button';
  readonly button: SmcButton;
  /** data ≠ 0. */
  readonly pressed: boolean;
}

export interface SmcOtherNotification extends NotificationBase {
  /** `power`: charger, battery-critical and port-change events (0x7101, 0x7102, 0x7106). */
  readonly kind: 'lid' | 'power' | 'other';
}

export type SmcNotification = SmcButtonNotification | SmcOtherNotification;

const BUTTONS: Readonly<Record<number, SmcButton>> = {
  [SmcButtonCode.HeldLong]: 'heldLong',
  [SmcButtonCode.Power]: 'power',
  [SmcButtonCode.TouchId]: 'touchId',
  [SmcButtonCode.HeldShort]: 'heldShort',
};

const POWER_EVENTS: ReadonlySet<number> = new Set([
  SmcEventType.Charger,
  SmcEventType.BatteryCritical,
  SmcEventType.PortChange,
]);

/** Classify a decoded notification. */
export function classifyNotification(
  event: number,
  subcode: number,
  data: number,
  word: bigint,
): SmcNotification {
  const base = { event, subcode, data, word };
  if (event === SmcEventType.Button) {
    return { kind: 'button', ...base, button: BUTTONS[subcode] ?? 'unknown', pressed: data !== 0 };
  }
  if (event === SmcEventType.Lid) return { kind: 'lid', ...base };
  if (POWER_EVENTS.has(event)) return { kind: 'power', ...base };
  return { kind: 'other', ...base };
}
