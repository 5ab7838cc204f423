/**
 * What a command may touch, injected so that commands run in-process in tests and the real
 * process wiring stays in main.ts.
 */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves once stdout can take more (back-pressure for large outputs). */
  drain: () => Promise<void>;
  /** Whole stdin as bytes (for `-`). */
  readStdin: () => Promise<Uint8Array>;
  /** Chunks of stdin as they arrive, for streaming decodes. */
  stdinChunks: () => AsyncIterable<Uint8Array>;
  readFile: (path: string) => Promise<Uint8Array>;
  fileChunks: (path: string) => AsyncIterable<Uint8Array>;
  fileSize: (path: string) => Promise<number | undefined>;
  /** Whether stdout / stderr are terminals (colour, progress). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Aborted when the user asks the process to stop (SIGINT/SIGTERM): long-running commands
   * (`serve`, `ui`, `demo`) stop cleanly on it. Absent in one-shot contexts.
   */
  interrupt?: AbortSignal;
}

/** A failed operation or bad input: exit 1 with this one line on stderr. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** Misuse of the command line: exit 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
