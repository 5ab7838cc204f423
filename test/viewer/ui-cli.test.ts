// `rtkit ui`: usage, errors, and the real process: it prints its address, serves the file, and
// exits 0 promptly on SIGINT and SIGTERM (the built CLI in dist/, which `npm test` builds first).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { uiCommand } from '../../src/cli/commands/ui.js';
import type { CliIO } from '../../src/cli/io.js';
import { cli, FIXTURES } from '../cli-harness.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

describe('rtkit ui (in process)', () => {
  it('--help shows examples', async () => {
    const r = await cli(['ui', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rtkit ui dmesg.txt');
    expect(r.stdout).toContain('--port <n>');
  });

  it('usage errors exit 2, a missing file exits 1, each with one line', async () => {
    const bad = await cli(['ui', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('rtkit: --port must be a number 0..65535, got "eighty"\n');
    expect((await cli(['ui', '--port', '70000'])).code).toBe(2);
    const missing = await cli(['ui', `${FIXTURES}no-such-file.txt`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('no such file');
  });

  it('without an interrupt signal (one-shot context) it prints the address and stops', async () => {
    const r = await cli(['ui', `${FIXTURES}dmesg-dcp-crash-142.txt`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/\n$/);
  });

  it('serves until io.interrupt aborts, then closes the server', async () => {
    const stop = new AbortController();
    let out = '';
    const io = {
      stdout: (t: string) => {
        out += t;
      },
      stderr: () => {},
      stderrIsTTY: false,
      interrupt: stop.signal,
    } as unknown as CliIO;
    const run = uiCommand(io).parseAsync([], { from: 'user' });
    while (!out.includes('\n')) await new Promise((ok) => setTimeout(ok, 10));
    const url = /viewer: (\S+)\n/.exec(out)![1]!;
    expect(await (await fetch(`${url}api/info`)).json()).toMatchObject({ live: false, file: null });
    stop.abort();
    await run;
    await expect(fetch(`${url}api/info`)).rejects.toThrow();
  });

  it('a local address that does not exist is a failure, not a crash', async () => {
    const r = await cli(['ui', '--host', '192.0.2.1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rtkit: cannot listen on 192\.0\.2\.1:0: /);
  });
});

function runUi(args: string[], signal: NodeJS.Signals) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; info: unknown }>(
    (ok, fail) => {
      const child = spawn(process.execPath, [MAIN, 'ui', ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let info: unknown;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`rtkit ui did not stop: ${stdout} ${stderr}`));
      }, 15_000);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child.stdout.on('data', async (b: Buffer) => {
        stdout += b.toString();
        const m = /viewer: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stdout);
        if (m === null || info !== undefined) return;
        info = null;
        info = await (await fetch(`${m[1]}api/info`)).json();
        child.kill(signal);
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        ok({ code, stdout, stderr, info });
      });
      child.stdin.end('0 0x00100000000c000b\n');
    },
  );
}

describe('rtkit ui (process)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('serves the file and exits 0 on %s', async (sig) => {
    expect(existsSync(MAIN), 'the built CLI (run npm run build)').toBe(true);
    const r = await runUi([`${FIXTURES}dmesg-dcp-crash-142.txt`], sig);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/\n$/);
    expect(r.info).toMatchObject({ live: false, file: { name: 'dmesg-dcp-crash-142.txt' } });
    expect(r.stderr).toBe('');
  });

  it('reads stdin with -', async () => {
    expect(existsSync(MAIN), 'the built CLI (run npm run build)').toBe(true);
    const r = await runUi(['-'], 'SIGINT');
    expect(r.code).toBe(0);
    expect(r.info).toMatchObject({ file: { name: 'stdin', size: 21 } });
  });
});
