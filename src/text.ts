/**
 * Text from firmware, crash buffers and log files is untrusted: printed raw, an escape sequence
 * in a syslog line or a crashlog string could retitle or clear the user's terminal. Renderers
 * pass every piece of such text through `printable`.
 */

// C0 controls except TAB, DEL, and C1 controls (which some terminals also interpret).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  return `\\x${code.toString(16).padStart(2, '0')}`;
}

/** The text with control characters shown as `\n`, `\r`, `\xNN`; TAB and printable text kept. */
export function printable(s: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(s) ? s.replace(CONTROL, escapeControl) : s;
}
