/**
 * SMC keys are four ASCII characters carried as a big-endian u32: `#KEY` = 0x234b4559
 * (PROTOCOL.md §9.1).
 */

export function fourccToU32(key: string): number {
  if (key.length !== 4) throw new RangeError(`a key has 4 characters: ${JSON.stringify(key)}`);
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = key.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`key character out of range: ${JSON.stringify(key)}`);
    v = v * 256 + c;
  }
  return v;
}

export function u32ToFourcc(v: number): string {
  return String.fromCharCode((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** The key as text when it is printable ASCII, else its hex value. */
export function showKey(v: number): string {
  const s = u32ToFourcc(v);
  return /^[\x20-\x7e]{4}$/.test(s) ? `'${s}'` : `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}
