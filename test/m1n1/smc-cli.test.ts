// Acceptance (issue 5): `rtkit smc --device tcp:…` against `rtkit serve --profile smc` lists every
// key with typed values, and a write is read back — the host library, unchanged, over the m1n1
// proxy wire, through the same CLI a user runs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { decodeKeyValue, defaultKeyTable } from '../../src/sim/profiles/smc-keys.js';
import { captureIO, type RunningServe, startServe } from './serve-harness.js';

async function smc(device: string, ...args: string[]) {
  const { io, out, err } = captureIO();
  const code = await runCli(['smc', '--device', device, ...args], io);
  return { code, stdout: out(), stderr: err() };
}

describe('rtkit smc --device against rtkit serve', () => {
  let serve: RunningServe;
  beforeAll(async () => {
    serve = await startServe(['--profile', 'smc']);
  });
  afterAll(async () => {
    expect(await serve.stop()).toBe(0);
  });

  it('prints where it listens, the co-processors and ready', () => {
    expect(serve.stdout()).toMatch(
      /^listening on tcp:127\.0\.0\.1:\d+\n {2}smc +ASC 0x23e400000\nready\n$/,
    );
  });

  it('lists every key of the SMC with its typed value', async () => {
    const r = await smc(serve.device, 'keys', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; type: string; size: number; value?: unknown });
    const table = defaultKeyTable();
    expect(rows.map((k) => k.key)).toEqual(table.map((k) => k.key));
    for (const def of table) {
      const row = rows.find((k) => k.key === def.key)!;
      expect(row.type).toBe(def.type);
      expect(row.size).toBe(def.value.length);
      const readable = (def.flags & 0x80) !== 0;
      if (!readable) continue;
      const want = decodeKeyValue(def);
      if (typeof want === 'number' || typeof want === 'boolean' || typeof want === 'string') {
        // Values that change on their own (counters, sensors) only need the right type.
        expect(typeof row.value).toBe(typeof want);
      } else if (typeof want === 'bigint') {
        expect(typeof row.value).toBe('string');
      } else {
        expect(row.value).toMatchObject({ type: def.type });
      }
    }
  });

  it('the text listing ends with the key count', async () => {
    const r = await smc(serve.device, 'keys');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${defaultKeyTable().length} keys\n`);
    expect(r.stdout).toMatch(/^#KEY {2}"ui32" 4B r-- flags=0x\w\w {2}\d+$/m);
  });

  it('reads one key, and a write is read back', async () => {
    const count = await smc(serve.device, 'read', '#KEY', '--json');
    expect(count.code).toBe(0);
    expect(JSON.parse(count.stdout)).toMatchObject({
      key: '#KEY',
      value: defaultKeyTable().length,
    });

    const w = await smc(serve.device, 'write', 'CH0C', '1', '--json');
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ key: 'CH0C', type: 'ui8 ', value: 1 });
  });

  it('info, and typed failures: unknown key, read-only key, bad value, nobody listening', async () => {
    const info = await smc(serve.device, 'info', 'CH0C');
    expect(info.stdout).toMatch(/^CH0C {2}"ui8 " 1B rw- flags=0x/);
    const missing = await smc(serve.device, 'read', 'ZZZZ');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/kSMCKeyNotFound/);
    const ro = await smc(serve.device, 'write', 'TW0P', '3');
    expect(ro.code).toBe(1);
    expect(ro.stderr).toMatch(/not writable/);
    const bad = await smc(serve.device, 'write', 'CH0C', 'lots');
    expect(bad.code).toBe(2);
    const usage = await smc(serve.device, 'read', 'TOOLONG');
    expect(usage.code).toBe(2);
    // The SMC still answers after all that.
    expect((await smc(serve.device, 'read', '#KEY')).code).toBe(0);
    const gone = await smc('tcp:127.0.0.1:1', 'keys');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/cannot open tcp:127\.0\.0\.1:1/);
  });
});
