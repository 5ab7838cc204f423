// Untrusted text (firmware strings, log lines, trace notes) never reaches the terminal with its
// control characters: an escape sequence could retitle or clear the user's terminal.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCrashlog } from '../src/crashlog/index.js';
import { printable } from '../src/text.js';
import { cli } from './cli-harness.js';

const EVIL = '\x1b]0;pwned\x07\x1b[2J\x9b31m';
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.length > 0);
}

describe('terminal safety', () => {
  it('printable escapes C0, DEL and C1 but keeps TAB and text', () => {
    expect(printable(`a\tb${EVIL}\n`)).toBe('a\tb\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\n');
    expect(printable('plain')).toBe('plain');
  });

  it('crashlog strings are escaped in the text rendering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rtkit-ansi-'));
    const file = join(dir, 'ansi.bin');
    writeFileSync(
      file,
      buildCrashlog({
        sections: [
          { kind: 'Cstr', id: 0, text: `panic ${EVIL}` },
          { kind: 'Cver', version: `RTKit: RTKit-1.2.3.release - Client: x${EVIL}` },
          { kind: 'Crtk', tasks: [{ id: 1, name: `t${EVIL}`.slice(0, 20) }] },
        ],
      }),
    );
    const r = await cli(['crashlog', file]);
    expect(r.code).toBe(0);
    for (const l of lines(r.stdout)) expect(l).not.toMatch(CONTROL);
    expect(r.stdout).toContain('\\x1b]0;pwned');
  });

  it('kernel-log syslog text and trace notes are escaped in decode output', async () => {
    const log = `[    1.0] apple-dcp 231c00000.dcp: RTKit: syslog message: a.c:1: ${EVIL}x\n`;
    const r = await cli(['decode', '-'], log);
    for (const l of lines(r.stdout)) expect(l).not.toMatch(CONTROL);
    const trace = `{"t":0,"dir":"iop->ap","ep":2,"msg":"0x005000000000002a","note":${JSON.stringify(EVIL)}}\n`;
    const t = await cli(['decode', '-'], trace);
    for (const l of lines(t.stdout)) expect(l).not.toMatch(CONTROL);
    // JSON output keeps the exact text (JSON escapes it).
    const j = await cli(['decode', '-', '--json'], log);
    expect(JSON.parse(j.stdout).message).toBe(`${EVIL}x`);
  });
});
