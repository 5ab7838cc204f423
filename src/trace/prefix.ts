/**
 * Log-line prefixes in front of a kernel message: plain dmesg `[  0.348120] `, `dmesg -T`
 * `[Fri May 24 01:23:30 2024] `, `dmesg -r` `<4>[  0.348120] ` (the syslog priority first),
 * `/dev/kmsg` records `6,1234,348120,-;`, journald/syslog `May 05 14:29:36 host kernel: ` (month
 * names in any language, e.g. `Mär`), ISO stamps `2024-05-05T14:29:36+0200 host kernel: `, or
 * none. Only lines that already passed the cheap marker test reach these functions.
 */

export interface LinePrefix {
  /** dmesg monotonic seconds. */
  t?: number;
  /** Wall-clock stamp as printed. */
  time?: string;
  /** Offset of the kernel message (the dev_printk `driver device: ` part starts here). */
  body: number;
}

const DMESG_RE = /^\[\s*(\d+\.\d+)\]\s?/;
// `dmesg -T`: `[Fri May 24 01:23:30 2024]`. Letters beyond ASCII allow localised day/month names.
const DMESG_T_RE = /^\[([^\]\d]{2,12}\s+[^\]\s]{2,12}\s+\d{1,2}\s+\d\d:\d\d:\d\d\s+\d{4})\]\s?/;
const KERNEL_TAG = ' kernel: ';
// `dmesg -r` prints the raw syslog priority (facility * 8 + level) before the stamp, as the kernel
// keeps it in the record; without a stamp (`dmesg -r -t`) the message follows directly.
const LEVEL_RE = /^<\d{1,3}>/;
// A /dev/kmsg record: `level,seq,usec,flags[,more fields];message`; the kernel's ABI document
// (Documentation/ABI/testing/dev-kmsg) allows more comma-separated fields before the `;`.
const KMSG_RE = /^\d{1,3},\d+,(\d+),[^;\s]*;/;

/** `end`: where the kernel message was found; a `kernel: ` tag is only looked for before it. */
export function parsePrefix(line: string, end = line.length): LinePrefix {
  const c = line.charCodeAt(0);
  if (c === 0x5b /* [ */) return bracketPrefix(line, 0);
  if (c === 0x3c /* < */) {
    const lv = LEVEL_RE.exec(line);
    if (lv !== null) return bracketPrefix(line, lv[0].length);
  } else if (c >= 0x30 && c <= 0x39) {
    const k = KMSG_RE.exec(line);
    // The record stamp is monotonic microseconds, as dmesg's `[seconds.micros]`.
    if (k !== null) return { t: Number(k[1]) / 1e6, body: k[0].length };
  }
  const k = line.indexOf(KERNEL_TAG);
  if (k > 0 && k < end) {
    // `<stamp> <host> kernel: `: the host is the last word before `kernel:`, unless that word
    // is the clock itself (no host name logged).
    const head = line.slice(0, k);
    const sp = head.lastIndexOf(' ');
    const last = head.slice(sp + 1);
    const stamp = /^\d\d:\d\d/.test(last) ? head.trim() : sp > 0 ? head.slice(0, sp).trim() : '';
    let body = k + KERNEL_TAG.length;
    // rsyslog may keep the kernel's own monotonic stamp after `kernel: `.
    const inner = line.charCodeAt(body) === 0x5b ? DMESG_RE.exec(line.slice(body)) : null;
    const out: LinePrefix = { body };
    if (inner !== null) {
      body += inner[0].length;
      out.body = body;
      out.t = Number(inner[1]);
    }
    if (stamp.length > 0) out.time = stamp;
    return out;
  }
  return { body: 0 };
}

/** A dmesg `[...]` stamp (or none) at `at`, after an optional `<level>`. */
function bracketPrefix(line: string, at: number): LinePrefix {
  if (line.charCodeAt(at) !== 0x5b /* [ */) return { body: at };
  const rest = at > 0 ? line.slice(at) : line;
  const m = DMESG_RE.exec(rest);
  if (m !== null) return { t: Number(m[1]), body: at + m[0].length };
  const w = DMESG_T_RE.exec(rest);
  if (w !== null) return { time: w[1]!, body: at + w[0].length };
  return { body: at };
}

export interface DevPrefix {
  driver?: string;
  device?: string;
}

/**
 * Driver and device from the text between the prefix and a message (`apple-dcp 231c00000.dcp: `).
 * `head` is that text including the trailing `: `. The last word is the device, the one before
 * it the driver (dev_printk prints `<driver> <device>: `).
 */
export function parseDevHead(head: string): DevPrefix {
  let end = head.length;
  while (end > 0 && head.charCodeAt(end - 1) === 0x20) end--;
  if (end > 0 && head.charCodeAt(end - 1) === 0x3a /* : */) end--;
  else return {};
  const s = head.slice(0, end);
  const sp = s.lastIndexOf(' ');
  const device = s.slice(sp + 1);
  if (device.length === 0) return {};
  if (sp < 0) return { device };
  const before = s.slice(0, sp).trimEnd();
  const sp2 = before.lastIndexOf(' ');
  const driver = before.slice(sp2 + 1);
  return driver.length > 0 ? { driver, device } : { device };
}
