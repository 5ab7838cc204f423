/**
 * Co-processor profiles as the decoder knows them: which application protocols to apply.
 * Names come from device-tree node names (`231c00000.dcp`, `23e400000.smc`, `393cc0000.nvme`)
 * and Linux driver names (`apple-dcp`, `macsmc-rtkit`, `nvme-apple`).
 */

export const COPROCS = [
  'smc',
  'dcp',
  'dcpext',
  'gpu',
  'aop',
  'sio',
  'pmp',
  'ans',
  'mtp',
  'isp',
] as const;
export type Coproc = (typeof COPROCS)[number];

const KEYWORDS: readonly [RegExp, Coproc][] = [
  [/dcpext/i, 'dcpext'],
  [/dcp/i, 'dcp'],
  [/smc/i, 'smc'],
  [/nvme|ans/i, 'ans'],
  [/gpu|agx|gfx/i, 'gpu'],
  [/aop/i, 'aop'],
  [/sio/i, 'sio'],
  [/pmp/i, 'pmp'],
  [/mtp/i, 'mtp'],
  [/isp/i, 'isp'],
];

/** The profile for a device or driver name, or undefined. */
export function coprocFromDevice(name: string): Coproc | undefined {
  // Prefer the node name after the unit address: "231c00000.dcp" → "dcp".
  const dot = name.lastIndexOf('.');
  const node = dot >= 0 ? name.slice(dot + 1) : name;
  for (const [re, c] of KEYWORDS) if (re.test(node)) return c;
  for (const [re, c] of KEYWORDS) if (re.test(name)) return c;
  return undefined;
}

export function isCoproc(s: string): s is Coproc {
  return (COPROCS as readonly string[]).includes(s);
}
