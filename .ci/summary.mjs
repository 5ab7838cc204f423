// Prints "N passed, N failed" from vitest's JSON report. A test file that fails to load counts
// as a failure, and a run that failed before vitest (install, build, typecheck, lint) counts as
// one failure, so a broken run can never read as green.
import { existsSync, readFileSync } from 'node:fs';

const [file, statusArg] = process.argv.slice(2);
const status = Number(statusArg ?? '0');
let passed = 0;
let failed = 0;
if (file && existsSync(file)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed = r.numPassedTests ?? 0;
  failed = r.numFailedTests ?? 0;
  for (const t of r.testResults ?? []) {
    if (t.status === 'failed' && (t.assertionResults ?? []).length === 0) failed += 1;
  }
}
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
