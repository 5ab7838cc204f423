/**
 * The injectable logger (STYLE.md: no logging dependency in the core). Messages are lazy: the
 * function is only called when the level is wanted, so a silent logger costs nothing.
 */

export type LogMessage = () => string;

export interface Logger {
  debug?(msg: LogMessage): void;
  info?(msg: LogMessage): void;
  warn?(msg: LogMessage): void;
  error?(msg: LogMessage): void;
}

/** Logs nothing. */
export const silentLogger: Logger = {};

/** A logger writing `[name] message` lines through `write` (e.g. `console.log`). */
export function lineLogger(
  write: (line: string) => void,
  opts: { name?: string; level?: 'debug' | 'info' | 'warn' | 'error' } = {},
): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const min = order.indexOf(opts.level ?? 'info');
  const prefix = opts.name === undefined ? '' : `[${opts.name}] `;
  const at =
    (level: (typeof order)[number]) =>
    (msg: LogMessage): void => {
      if (order.indexOf(level) >= min) write(`${prefix}${level}: ${msg()}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
