/**
 * The worked examples of M1N1-PROXY.md (§2.2, §2.6, §3, §4), verbatim, for tests of the codec,
 * the client and the server. Hex is in wire order, as the spec prints it.
 */

const Z13 = ' 00000000'.repeat(13);
const Z11 = ' 00000000'.repeat(11);

/** Bytes from the spec's hex notation (spaces and `+`-joined groups ignored). */
export function hexBytes(s: string): Uint8Array {
  const t = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The parts one after the other (test streams built from frames, data and garbage). */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const CHECKSUM_VECTORS: readonly { name: string; input: Uint8Array; checksum: number }[] = [
  { name: 'empty', input: new Uint8Array(0), checksum: 0x73736542 },
  { name: 'one byte 00', input: Uint8Array.of(0), checksum: 0x8f9fedcc },
  { name: 'ASCII abc', input: new TextEncoder().encode('abc'), checksum: 0xb407443e },
  {
    name: 'bytes 00..ff',
    input: Uint8Array.from({ length: 256 }, (_, i) => i),
    checksum: 0x9f0575c2,
  },
];

/** §2.6 requests. */
export const REQUEST_VECTORS = {
  getBase: `ff55aa01 04000000${Z13} 479b231d`,
  nopFeature0: `ff55aa00 01000000${Z13} f3d9031c`,
  nopNothing: `ff55aa00 00000000${Z13} 6839974b`,
  read32: `ff55aa01 05010000 00000000 1481403e 02000000${' 00000000'.repeat(10)} bcfa559a`,
  whoami: `ff55aa01 05090000${Z13} 0173ff71`,
  getExcCount: `ff55aa01 08000000${Z13} 131ec98b`,
  getBootargs: `ff55aa01 03000000${Z13} 4079c31a`,
  heapblockAlloc0: `ff55aa01 00060000${Z13} 4576bcca`,
  getCpuFeatures20: `ff55aa01 14000000 00000000 14000000${Z11} 83f488ae`,
  setBaud:
    'ff55aa01 05000000 00000000 60e31600 00000000 10000000 00000000 f0a55a00 00000000 00000000 00000000 00000000 00000000 00000000 00000000 92e030dc',
  // §3
  memRead16:
    'ff55aa02 00000001 08000000 10000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 2135d0e9',
  memWriteOn:
    'ff55aa03 00000001 08000000 04000000 00000000 7ed26bca 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 63897003',
  memWriteOff:
    'ff55aa03 00000001 08000000 04000000 00000000 decaded0 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 f6a5932b',
} as const;

/** §2.6 and §3 replies. */
export const REPLY_VECTORS = {
  boot: 'ff55aa04 00000000 00000000 00000000 00000000 00000000 00000000 00000000 dc929bf4',
  getBase: 'ff55aa01 00000000 04000000 00000000 00000000 00000000 00400000 08000000 87b53306',
  whoamiUsb0: 'ff55aa01 00000000 05090000 00000000 00000000 00000000 04000000 00000000 f55380c0',
  nopAccepted: 'ff55aa00 00000000 01000000 00000000 00000000 00000000 00000000 00000000 2b2bec34',
  nopNothing: 'ff55aa00 00000000 00000000 00000000 00000000 00000000 00000000 00000000 404ab690',
  unknownOpcode: 'ff55aa01 00000000 02000000 00000000 ffffffff ffffffff 00000000 00000000 b9b5387d',
  csumErr: 'ff55aa01 fcffffff 00000000 00000000 00000000 00000000 00000000 00000000 2e413cd4',
  badCmd: 'ff55aa06 ffffffff 00000000 00000000 00000000 00000000 00000000 00000000 0614e9a1',
  memReadOn: 'ff55aa02 00000000 ca10dc58 00000000 00000000 00000000 00000000 00000000 384eecb1',
  memReadOff: 'ff55aa02 00000000 decaded0 00000000 00000000 00000000 00000000 00000000 e825db34',
  memReadFault: 'ff55aa02 fdffffff 00000000 00000000 00000000 00000000 00000000 00000000 34d241f4',
  memWriteOn: 'ff55aa03 00000000 7ed26bca 00000000 00000000 00000000 00000000 00000000 b450b1a8',
  memWriteOff: 'ff55aa03 00000000 decaded0 00000000 00000000 00000000 00000000 00000000 8bf723f2',
} as const;

/** §4 IRQTRACE example (flags 1, type 0, num 0x2a). */
export const EVENT_IRQTRACE = 'ff55aa05 08000200 01000000 00002a00 9a82643a';

/** §3 example data. */
export const DATA_00_0F = Uint8Array.from({ length: 16 }, (_, i) => i);
export const DATA_DEADBEEF = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
export const SENTINEL_HEX = '10 cc ca b0';
