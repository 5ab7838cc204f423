/**
 * Section fourccs (PROTOCOL.md §7.3). A fourcc is stored as the little-endian u32 whose
 * big-endian spelling is the name, so `Cstr` = 0x43737472 appears in memory as `72 74 73 43`.
 */

export const Fourcc = {
  CLHE: 0x434c4845,
  Cstr: 0x43737472,
  Cver: 0x43766572,
  Ctim: 0x4374696d,
  Cmbx: 0x436d6278,
  Crg8: 0x43726738,
  CrgA: 0x43726741,
  Ccst: 0x43637374,
  CasC: 0x43617343,
  Crtk: 0x4372746b,
  Ccdp: 0x43636470,
  Cpct: 0x43706374,
} as const;

/** The name of a fourcc value: its four characters when all are printable ASCII, else `0x%08x`
 * (firmware may write anything here; the name must stay readable and JSON-safe). */
export function fourccName(value: number): string {
  const v = value >>> 0;
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 8) {
    const c = (v >>> shift) & 0xff;
    if (c < 0x20 || c > 0x7e) return `0x${v.toString(16).padStart(8, '0')}`;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Inverse of `fourccName`: four printable ASCII characters or `0x` + 8 hex digits. */
export function fourccValue(name: string): number | undefined {
  if (/^0x[0-9a-fA-F]{8}$/.test(name)) return Number.parseInt(name.slice(2), 16) >>> 0;
  if (!/^[\x20-\x7e]{4}$/.test(name)) return undefined;
  return (
    ((name.charCodeAt(0) << 24) |
      (name.charCodeAt(1) << 16) |
      (name.charCodeAt(2) << 8) |
      name.charCodeAt(3)) >>>
    0
  );
}
