// `rtkit sim`: every profile booted by the host library through the mailbox registers, crash and
// recovery, faults the session cannot survive, usage errors, determinism, and the JSON output
// being exactly what `rtkit decode --json` writes for the recording.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './cli-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'rtkit-sim-'));
let files = 0;
const tmpFile = (name: string): string => join(tmp, `${files++}-${name}`);

const PROFILES = ['generic', 'smc', 'ans', 'dcp', 'mtp'] as const;

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('rtkit sim: every profile', () => {
  for (const profile of PROFILES) {
    it(`${profile}: boots, runs, shuts down; exit 0`, async () => {
      const r = await cli(['sim', '--profile', profile]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The boot as `rtkit decode` renders it: HELLO, the ack, the endpoint map, power.
      expect(r.stdout).toContain(`← ${profile} management(0x00) 0x00100000000c000b HELLO v11..12`);
      expect(r.stdout).toContain(`→ ${profile} management(0x00) 0x00200000000c000c HELLO_ACK v12`);
      expect(r.stdout).toMatch(/IOP_PWR_STATE_ACK ON \(0x20\)/);
      expect(r.stdout).toMatch(/AP_PWR_STATE_ACK ON \(0x20\)/);
      for (const step of ['boot', 'ping', 'syslog', 'idle', 'wake', 'shutdown']) {
        expect(r.stdout).toContain(`${profile} step ${step}: ok`);
      }
      expect(r.stdout).toMatch(/SET_IOP_PWR_STATE SLEEP \(0x1\)/);
      expect(r.stdout).toMatch(/^ {2}violations {2}0$/m);
      expect(r.stdout).toMatch(/^ {2}DMA faults {2}0$/m);
      expect(r.stdout).toMatch(/^ {2}result {6}ok$/m);
      expect(r.stdout).not.toContain('FAILED');
    });
  }

  it('smc: SMC keys read through the client, a write read back', async () => {
    const r = await cli(['sim', '--profile', 'smc']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("SMC READ_KEY '#KEY' id 1 size 4");
    expect(r.stdout).toContain('smc step smc #KEY: ok: 60 keys');
    expect(r.stdout).toContain('smc step smc read B0AV: ok: 12604');
    expect(r.stdout).toContain('smc step smc read BMDN: ok: "SimBattery"');
    expect(r.stdout).toContain('smc step smc write F0Tg: ok: 2000 → 3000 (read back)');
  });

  it('dcp: IOMFB words on 0x37, each acked', async () => {
    const r = await cli(['sim', '--profile', 'dcp']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/user24\(0x37\) 0x[0-9a-f]{16} IOMFB SET_SHMEM/);
    expect(r.stdout).toContain('IOMFB INITIALIZED');
    expect(r.stdout).toContain('IOMFB ACK of CMD');
    expect(r.stdout).toContain('IOMFB ACK of OOBCMD');
    expect(r.stdout).toMatch(/dcp syslog \S+: /);
  });

  it('generic: the echo endpoint; --version 10 speaks v10.2, --version 11 v11', async () => {
    const r = await cli(['sim', '--profile', 'generic']);
    expect(r.stdout).toContain('generic step echo 0x20: ok');
    const v10 = await cli(['sim', '--profile', 'generic', '--version', '10']);
    expect(v10.code).toBe(0);
    expect(v10.stdout).toContain('HELLO v10.2');
    expect(v10.stdout).toContain('protocol v10.2');
    const v11 = await cli(['sim', '--profile', 'generic', '--version', '11']);
    expect(v11.code).toBe(0);
    expect(v11.stdout).toContain('HELLO_ACK v11');
  });
});

describe('rtkit sim: crashes', () => {
  for (const profile of ['dcp', 'smc'] as const) {
    it(`${profile} --fault crash: the crash report, recovery, a clean shutdown; exit 0`, async () => {
      const r = await cli(['sim', '--profile', profile, '--fault', 'crash']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = r.stdout;
      // The crash notification on EP1, decoded, then the crashlog the session copied.
      expect(out).toMatch(/crashlog\(0x01\) 0x[0-9a-f]{16} co-processor crashed/);
      expect(out).toMatch(
        new RegExp(`${profile} crashed: notification 0x[0-9a-f]{16}, \\d+ bytes`),
      );
      expect(out).toContain('RTKit crashlog: format');
      expect(out).toContain('rtkit sim: crash requested with --fault crash');
      // Mailbox-history entries annotated by the decoder.
      expect(out).toMatch(
        /#000@[0-9a-f]{8}: 0{16} 00100000000c000b {2}iop->ap management {2}HELLO v11\.\.12/,
      );
      const after = out.slice(out.indexOf('RTKit crashlog: format'));
      expect(after).toContain(`${profile} step recover: ok`);
      expect(after.indexOf('step recover: ok')).toBeLessThan(
        after.lastIndexOf('step shutdown: ok'),
      );
      expect(out).toMatch(/^ {2}crashes {5}1 \(recovered\)$/m);
      expect(out).toMatch(/^ {2}result {6}ok$/m);
    });
  }

  it('a crash during boot (crash-at=ap-on) is recovered the same way', async () => {
    const r = await cli(['sim', '--profile', 'ans', '--fault', 'crash-at=ap-on']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fault injection: crash at boot step "ap-on"');
    expect(r.stdout).toMatch(/ans crashed: notification 0x[0-9a-f]{16}/);
    expect(r.stdout).toContain('ans step recover: ok');
  });

  it('--json: the crash with its parsed crashlog in the summary', async () => {
    const r = await cli(['sim', '--profile', 'dcp', '--fault', 'crash', '--json']);
    expect(r.code).toBe(0);
    const summary = jsonLines(r.stdout).at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', ok: true, recovered: true });
    const crashes = summary['crashes'] as Record<string, unknown>[];
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ notified: true, size: 0x3000 });
    const sections = (crashes[0]!['crashlog'] as { sections: { fourcc: string }[] }).sections;
    expect(sections.map((s) => s.fourcc)).toEqual(
      expect.arrayContaining(['Cstr', 'Cver', 'Ctim', 'Crg8', 'Cmbx']),
    );
  });
});

describe('rtkit sim: failures and usage', () => {
  it('a fault the session cannot survive (withhold=iop-ack) exits 1 with one stderr line', async () => {
    const r = await cli(['sim', '--profile', 'ans', '--fault', 'withhold=iop-ack']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rtkit: the session failed: boot: TIMEOUT: iop-power-ack/);
    expect(r.stdout).toContain('ans step boot: FAILED');
    expect(r.stdout).toMatch(/^ {2}result {6}the session failed/m);
  });

  it('a strict-mode violation exits 1 (a LOG the host never saw: no echo)', async () => {
    const r = await cli(['sim', '--profile', 'dcp', '--fault', 'drop:ep=2,type=5,count=1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^rtkit: 1 strict-mode violation, the first: MISSING_ECHO/);
    expect(r.stdout).toMatch(/^ {2}violations {2}1$/m);
  });

  it('bad profile, bad fault spec, bad seed, --version 10 on smc: exit 2, no stack', async () => {
    for (const [args, message] of [
      [['sim', '--profile', 'gpu'], /Allowed choices are generic, smc, ans, dcp, mtp/],
      [['sim'], /required option '--profile <name>'/],
      [['sim', '--profile', 'smc', '--fault', 'bogus'], /fault spec: unknown clause "bogus"/],
      [['sim', '--profile', 'smc', '--fault', 'crash-at=lunch'], /fault spec: crash-at/],
      [['sim', '--profile', 'smc', '--seed', 'x'], /--seed must be an integer/],
      [['sim', '--profile', 'smc', '--version', '10'], /--version 10 needs --profile generic/],
      [['sim', '--profile', 'smc', '--version', '13'], /Allowed choices are 10, 11, 12/],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
  });

  it('--help shows examples and exits 0; rtkit --version still works', async () => {
    const r = await cli(['sim', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('rtkit sim --profile dcp --fault crash');
    const top = await cli(['--help']);
    expect(top.stdout).toContain('rtkit sim --profile smc --fault crash');
    const v = await cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('rtkit sim: recording and JSON', () => {
  it('same seed and arguments: byte-identical recording and --json output', async () => {
    const args = ['sim', '--profile', 'dcp', '--fault', 'crash', '--seed', '7', '--json'];
    const [a, b] = [tmpFile('a.jsonl'), tmpFile('b.jsonl')];
    const ra = await cli([...args, '--record', a]);
    const rb = await cli([...args, '--record', b]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    const recA = readFileSync(a, 'utf8');
    expect(recA.length).toBeGreaterThan(1000);
    expect(readFileSync(b, 'utf8')).toBe(recA);
    expect(rb.stdout).toBe(ra.stdout);
    // Another seed: another session (syslog timing and lines, crash registers).
    const c = tmpFile('c.jsonl');
    await cli(['sim', '--profile', 'dcp', '--fault', 'crash', '--seed', '8', '--record', c]);
    expect(readFileSync(c, 'utf8')).not.toBe(recA);
  });

  it('text is the live rendering: its words read exactly as `rtkit decode` shows the recording', async () => {
    const file = tmpFile('live.jsonl');
    const r = await cli(['sim', '--profile', 'smc', '--fault', 'crash', '--record', file]);
    expect(r.code).toBe(0);
    const words = (s: string) => s.split('\n').filter((l) => /^\[ *[\d.]+\] [→←] /.test(l));
    const decoded = await cli(['decode', file]);
    expect(words(r.stdout)).toEqual(words(decoded.stdout));
    // Rendering live observes the session, never changes it: the JSON run records the same.
    const jsonFile = tmpFile('live-json.jsonl');
    await cli(['sim', '--profile', 'smc', '--fault', 'crash', '--json', '--record', jsonFile]);
    expect(readFileSync(jsonFile, 'utf8')).toBe(readFileSync(file, 'utf8'));
    expect(words(r.stdout).length).toBeGreaterThan(50);
    // The session's state changes and the script's steps sit between the words, in time order.
    expect(r.stdout).toMatch(
      /smc state buffers: IOP ON, AP ON, handshake done, running, buffers crashlog\(0x01\) sram 0x[0-9a-f]+\+0x2000/,
    );
    const stamps = r.stdout
      .split('\n')
      .map((l) => /^\[ *(\d+\.\d+)\]/.exec(l)?.[1])
      .filter((t): t is string => t !== undefined)
      .map(Number);
    for (let i = 1; i < stamps.length; i++)
      expect(stamps[i]).toBeGreaterThanOrEqual(stamps[i - 1]!);
  });

  it('text output is deterministic too', async () => {
    const a = await cli(['sim', '--profile', 'smc', '--seed', '5']);
    const b = await cli(['sim', '--profile', 'smc', '--seed', '5']);
    expect(b.stdout).toBe(a.stdout);
  });

  it('--record writes our trace format; --json is exactly `rtkit decode --json` of it, then a summary', async () => {
    for (const profile of PROFILES) {
      const file = tmpFile(`${profile}.jsonl`);
      const r = await cli(['sim', '--profile', profile, '--json', '--record', file]);
      expect(r.code).toBe(0);
      const rec = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(JSON.parse(rec[0]!)).toMatchObject({ rtkitTrace: 1 });
      expect(JSON.parse(rec[1]!)).toMatchObject({ dir: 'iop->ap', coproc: profile, ep: 0 });

      const decoded = await cli(['decode', file, '--json']);
      expect(decoded.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(`${lines.slice(0, -1).join('\n')}\n`).toBe(decoded.stdout);
      expect(lines.length - 1).toBe(rec.length - 1);

      const objs = jsonLines(r.stdout);
      for (const o of objs.slice(0, -1)) {
        expect(o).toMatchObject({ type: 'message', origin: 'trace', coproc: profile });
        expect(Object.keys(o)).toEqual(
          expect.arrayContaining(['ep', 'endpoint', 'dir', 'msg', 'kind', 'fields', 'summary']),
        );
        expect(o['msg']).toMatch(/^0x[0-9a-f]{16}$/);
      }
      const summary = objs.at(-1)!;
      expect(summary).toMatchObject({
        type: 'summary',
        profile,
        seed: 1,
        faults: null,
        protocol: 'v12',
        ok: true,
        recovered: false,
        crashes: [],
        violations: [],
        dmaFaults: [],
      });
      const steps = summary['steps'] as { step: string; ok: boolean }[];
      expect(steps.map((s) => s.step)).toEqual(expect.arrayContaining(['boot', 'shutdown']));
      expect(steps.every((s) => s.ok)).toBe(true);
      expect(summary['messages']).toMatchObject({ total: rec.length - 1 });
    }
  });
});
