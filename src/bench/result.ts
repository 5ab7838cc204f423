/** One line of `npm run bench` output. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** Free-form context (input size, iterations); printed alongside. */
  note?: string;
}

/** Run `fn` repeatedly for at least `minMs`, returning the best per-call time in ms. */
export function bestOf(fn: () => void, minMs = 1000, minRuns = 3): number {
  let best = Number.POSITIVE_INFINITY;
  let runs = 0;
  const start = performance.now();
  while (runs < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    if (dt < best) best = dt;
    runs++;
  }
  return best;
}
