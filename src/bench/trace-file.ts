/**
 * End-to-end streaming decode of a large kernel log file through the CLI, in a child process so
 * that its peak RSS is the decoder's alone. Size: RTKIT_BENCH_LOG_MB (default 1024, the issue's
 * "1 GB log in under 200 MB of RSS"); the file is written to the temp directory and removed.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from './result.js';
import { kernelLogChunks } from './trace.js';

export function run(): BenchResult[] {
  const mb = Number(process.env['RTKIT_BENCH_LOG_MB'] ?? 1024);
  const dir = mkdtempSync(join(tmpdir(), 'rtkit-bench-'));
  const file = join(dir, 'kernel.log');
  try {
    const fd = openSync(file, 'w');
    let bytes = 0;
    for (const chunk of kernelLogChunks(mb * 1024 * 1024, { chunkBytes: 4 << 20 })) {
      writeSync(fd, chunk);
      bytes += chunk.length;
    }
    closeSync(fd);
    const child = new URL('./decode-file-child.js', import.meta.url).pathname;
    const out = execFileSync(process.execPath, [child, file], { encoding: 'utf8' });
    const r = JSON.parse(out) as { code: number; seconds: number; maxRssMB: number };
    const note = `${(bytes / 1e6).toFixed(0)} MB kernel log, rtkit decode --json to a null sink, exit ${r.code}`;
    return [
      { name: 'trace.kernel-log-file', value: bytes / 1e6 / r.seconds, unit: 'MB/s', note },
      { name: 'trace.kernel-log-file.peak-rss', value: r.maxRssMB, unit: 'MB', note },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
