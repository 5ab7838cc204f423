import type { Direction } from '../protocol/index.js';
import { isValidEndpoint, parseHex64 } from '../protocol/index.js';
import { CliUsageError } from './io.js';

/** An endpoint as a person types it: `32`, `0x20`, `20h` is not accepted. */
export function parseEndpointArg(s: string): number {
  const t = s.trim();
  const n = /^0x[0-9a-f]+$/i.test(t)
    ? Number.parseInt(t, 16)
    : /^\d+$/.test(t)
      ? Number(t)
      : Number.NaN;
  if (!isValidEndpoint(n))
    throw new CliUsageError(`endpoint must be 0–255 (decimal or 0x hex): ${s}`);
  return n;
}

/** A 64-bit word in hex, with or without 0x; up to 16 digits, left-padded. */
export function parseWordArg(s: string): { hi: number; lo: number } {
  const w = parseHex64(s);
  if (w === undefined)
    throw new CliUsageError(`message must be 1–16 hex digits, e.g. 0x00100000000c000b: ${s}`);
  return w;
}

export function parseDirArg(s: string | undefined): Direction | null {
  if (s === undefined) return null;
  const t = s.toLowerCase().replace(/\s/g, '');
  if (t === 'ap->iop' || t === 'tx' || t === 'out' || t === '>' || t === 'ap') return 'ap->iop';
  if (t === 'iop->ap' || t === 'rx' || t === 'in' || t === '<' || t === 'iop') return 'iop->ap';
  throw new CliUsageError(`direction must be ap->iop or iop->ap: ${s}`);
}
