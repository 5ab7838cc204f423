import pc from 'picocolors';
import type { CliIO } from './io.js';

export interface Paint {
  bold: (s: string) => string;
  dim: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  yellow: (s: string) => string;
  cyan: (s: string) => string;
  magenta: (s: string) => string;
}

const plain = (s: string): string => s;

/**
 * Whether stdout gets colour: never with NO_COLOR (no-color.org), always with FORCE_COLOR (other
 * than 0/false), else on a terminal that is not TERM=dumb. One decision for every command.
 */
export function colorEnabled(io: Pick<CliIO, 'stdoutIsTTY' | 'env'>): boolean {
  const env = io.env;
  if (env['NO_COLOR'] !== undefined) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force !== 'false';
  return io.stdoutIsTTY && env['TERM'] !== 'dumb';
}

export function paint(io: Pick<CliIO, 'stdoutIsTTY' | 'env'>): Paint {
  const on = colorEnabled(io);
  const c = pc.createColors(on);
  return on
    ? {
        bold: c.bold,
        dim: c.dim,
        red: c.red,
        green: c.green,
        yellow: c.yellow,
        cyan: c.cyan,
        magenta: c.magenta,
      }
    : {
        bold: plain,
        dim: plain,
        red: plain,
        green: plain,
        yellow: plain,
        cyan: plain,
        magenta: plain,
      };
}
