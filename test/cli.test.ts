import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCrashlog } from '../src/crashlog/index.js';
import { cli, FIXTURES } from './cli-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'rtkit-cli-'));

describe('rtkit msg', () => {
  it('decodes one word as text', async () => {
    const r = await cli(['msg', '0', '0x00100000000c000b']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('HELLO v11..12');
    expect(r.stdout).toContain('management');
  });

  it('--json writes the same object as a line of decode --json', async () => {
    const one = await cli([
      'msg',
      '0x37',
      '0000003c00000202',
      '--coproc',
      'dcp',
      '--dir',
      'ap->iop',
      '--json',
    ]);
    const viaDecode = await cli(
      ['decode', '-', '--json', '--coproc', 'dcp'],
      'ap->iop 37 0x0000003c00000202\n',
    );
    expect(one.code).toBe(0);
    const a = JSON.parse(one.stdout);
    const b = JSON.parse(viaDecode.stdout.trim().split('\n')[0]!);
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      ep: 0x37,
      endpoint: 'user24',
      dir: 'ap->iop',
      msg: '0x0000003c00000202',
      kind: 'iomfbMessage',
      fields: { ack: false, context: 2, length: '0x3c' },
      summary: 'IOMFB MSG CMD length 0x3c',
    });
  });

  it('usage errors exit 2 with one line, no stack', async () => {
    for (const args of [
      ['msg', '256', '1'],
      ['msg', '1', 'xyz'],
      ['msg', '1'],
      ['msg', '1', '1', '--dir', 'up'],
      ['nope'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--help shows examples and exits 0', async () => {
    const r = await cli(['msg', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
  });
});

describe('rtkit decode', () => {
  it('decodes the DCP crash fixture as text and JSON lines', async () => {
    const text = await cli(['decode', `${FIXTURES}dmesg-dcp-crash-142.txt`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('IOMFB MSG CMD length 0x3c');
    const json = await cli(['decode', `${FIXTURES}dmesg-dcp-crash-142.txt`, '--json']);
    const records = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const messages = records.filter((r) => r.type === 'message');
    expect(messages).toHaveLength(24);
    expect(messages[5]).toMatchObject({
      index: 29,
      timestamp: '0x1d3a3f01',
      dir: 'ap->iop',
      ep: 0x37,
    });
    const crash = records.find((r) => r.type === 'crash');
    expect(crash.crashTime).toBe('0x5c1600e7');
    expect(crash.crashTimeDecimal).toBe('1544945895');
  });

  it('reads stdin with -, and --only filters record types', async () => {
    const log =
      '[    0.1] nvme-apple 34bcc0000.nvme: RTKit: Initializing (protocol version 12)\n[    0.2] nvme-apple 34bcc0000.nvme: RTKit: syslog message: cmd.c:6074:  boot mode normal\n';
    const r = await cli(['decode', '-', '--json', '--only', 'syslog'], log);
    const recs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      type: 'syslog',
      context: 'cmd.c:6074',
      message: ' boot mode normal',
    });
  });

  it('says so on stderr when a text holds no RTKit records', async () => {
    const r = await cli(['decode', '-'], 'hello world\nnothing to see\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no RTKit records in 2 lines/);
  });

  it('bad input exits 1 with one clear line', async () => {
    const missing = await cli(['decode', join(tmp, 'missing.log')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff)));
    const r = await cli(['decode', junk]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UNKNOWN_FORMAT/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('rtkit crashlog', () => {
  const file = join(tmp, 'crash.bin');
  writeFileSync(
    file,
    buildCrashlog({
      sections: [
        { kind: 'Cstr', id: 0, text: 'boom\n' },
        { kind: 'Ctim', time: 0x5c1600e7n },
        { kind: 'Cmbx', entries: [{ ep: 0x37, msg: 0x0000003c00000202n, timestamp: 0x1d3a3f01n }] },
      ],
    }),
  );

  it('renders text with decoded mailbox entries', async () => {
    const r = await cli(['crashlog', file, '--coproc', 'dcp']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('boom');
    expect(r.stdout).toContain('IOMFB MSG CMD length 0x3c');
  });

  it('--json has header, sections and warnings with hex strings', async () => {
    const r = await cli(['crashlog', file, '--json']);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['header', 'sections', 'warnings']));
    const ctim = j.sections.find((s: { fourcc: string }) => s.fourcc === 'Ctim');
    expect(typeof ctim.time).toBe('string');
    const cmbx = j.sections.find((s: { fourcc: string }) => s.fourcc === 'Cmbx');
    expect(cmbx.entries[0]).toMatchObject({ ep: 0x37, msg: '0x0000003c00000202', dir: 'ap->iop' });
  });

  it('not a crashlog exits 1 with one line', async () => {
    const bad = join(tmp, 'bad.bin');
    writeFileSync(bad, Buffer.from('this is not a crashlog at all, no CLHE magic here'));
    const r = await cli(['crashlog', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CRASHLOG_BAD_MAGIC/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the built binary', () => {
  const bin = new URL('../dist/cli/main.js', import.meta.url).pathname;

  it('runs the demo (what npm start runs) without error and prints the viewer address', () => {
    // Piped: the whole session at once, then exit, with the viewer served meanwhile.
    const out = execFileSync('node', [bin, 'demo'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(out.split('\n')[0]).toMatch(/^viewer: http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(out).toContain('HELLO v11..12');
    expect(out).toContain('Exception taken from EL1h');
    expect(out).toMatch(/^ {2}result {6}ok$/m);
    expect(out).not.toMatch(/\x1b\[/);
    const tour = execFileSync('node', [bin, 'demo', '--tour'], { encoding: 'utf8' });
    expect(tour).toContain('A real DCP crash from a Linux kernel log');
  });

  it('exit codes from a real process: 0, 1, 2', () => {
    expect(spawnSync('node', [bin, 'msg', '0', '0x1'], { encoding: 'utf8' }).status).toBe(0);
    expect(
      spawnSync('node', [bin, 'crashlog', '/nonexistent/x.bin'], { encoding: 'utf8' }).status,
    ).toBe(1);
    const usage = spawnSync('node', [bin, 'msg'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
  });

  it('pipes: stdin to stdout', () => {
    const r = spawnSync('node', [bin, 'decode', '-', '--json'], {
      input: '2 0x005000000000002a\n',
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'syslogLog', fields: { index: 42 } });
  });
});

describe('usage without arguments', () => {
  it('rtkit alone prints help on stderr and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: rtkit');
  });

  it('rtkit decode needs a file or -', async () => {
    expect((await cli(['decode'])).code).toBe(2);
  });
});
