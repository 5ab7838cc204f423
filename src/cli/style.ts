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

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org). */
export function paint(io: CliIO): Paint {
  const on = io.stdoutIsTTY && io.env['NO_COLOR'] === undefined && io.env['TERM'] !== 'dumb';
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
