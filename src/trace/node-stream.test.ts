import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { isRtkitError } from '../errors.js';
import { decodeTrace } from './decoder.js';
import { decodeFile, decodeReadable, iterateFile } from './node-stream.js';
import type { TraceOutput } from './records.js';

const DIR = join(import.meta.dirname, '../../test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'rtkit-trace-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const text = ['dmesg-m1pro-nvme-syslog.txt', 'dmesg-dcp-crash-142.txt', 'dmesg-m2pro-boot.txt']
  .map((f) => readFileSync(join(DIR, f), 'utf8'))
  .join('');

describe('Node file adapter', () => {
  const path = join(tmp, 'log.txt');
  writeFileSync(path, text);

  it('decodeFile gives the records of decodeTrace, even with 7-byte reads (splits "Mär")', async () => {
    const got: TraceOutput[] = [];
    const stats = await decodeFile(path, (r) => got.push(r), { chunkSize: 7 });
    expect(got).toEqual(decodeTrace(text));
    expect(stats.format).toBe('kernel');
    expect(stats.lines).toBe(text.split('\n').length - 1);
  });

  it('iterateFile', async () => {
    const got: TraceOutput[] = [];
    for await (const r of iterateFile(path, { chunkSize: 1000 })) got.push(r);
    expect(got).toEqual(decodeTrace(text));
  });

  it('decodeReadable on a byte stream', async () => {
    const bytes = Buffer.from(text);
    const parts = [bytes.subarray(0, 3), bytes.subarray(3, 1001), bytes.subarray(1001)];
    const got: TraceOutput[] = [];
    await decodeReadable(Readable.from(parts), (r) => got.push(r));
    expect(got).toEqual(decodeTrace(text));
  });

  it('a binary file rejects with UNKNOWN_FORMAT', async () => {
    const bin = join(tmp, 'bin');
    writeFileSync(bin, Buffer.alloc(100_000, 0));
    await expect(decodeFile(bin, () => {})).rejects.toSatisfy((e) =>
      isRtkitError(e, 'UNKNOWN_FORMAT'),
    );
  });

  it('a missing file rejects with the fs error', async () => {
    await expect(decodeFile(join(tmp, 'nope'), () => {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
