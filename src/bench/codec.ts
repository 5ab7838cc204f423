/**
 * Codec benchmarks: the word-representation experiment behind docs/word-representation.md,
 * full decode of a mixed stream into typed values, and the bulk field path.
 */

import {
  BufferField,
  countMatching,
  type DecodeContext,
  decodeWords,
  encodeWords,
  extractField,
  hex64,
  type Message,
} from '../protocol/index.js';
import { type BenchResult, bestOf } from './result.js';

/** A deterministic mixed stream resembling a real session: mostly syslog, some of everything. */
export function mixedStream(n: number, seed = 1): { eps: Uint8Array; words: Uint32Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const eps = new Uint8Array(n);
  const words = new Uint32Array(2 * n);
  const templates: [number, number, number][] = [
    [2, 0x00500000, 0], // syslog LOG (index filled in)
    [2, 0x00500000, 0],
    [2, 0x00500000, 0],
    [0, 0x00100000, 0x000c000b], // HELLO
    [0, 0x00200000, 0x000c000c], // HELLO_ACK
    [0, 0x00880000, 0x0000011e], // EPMAP
    [0, 0x00500001, 0x00000002], // STARTEP 1
    [0, 0x00700000, 0x00000020], // IOP ack
    [0, 0x00b00000, 0x00000020], // AP ack
    [1, 0x00101008, 0x01000000], // crashlog buffer
    [4, 0x00800000, 0x00000000], // ioreport 8
    [8, 0x02000000, 0x00001234], // oslog counter
    [0x20, 0x234b4559, 0x00041010], // SMC READ_KEY (app: unknown without coproc)
    [5, 0x12345678, 0x9abcdef0], // unknown system endpoint
  ];
  for (let i = 0; i < n; i++) {
    const t = templates[rand() % templates.length]!;
    eps[i] = t[0];
    words[2 * i] = t[1];
    words[2 * i + 1] = t[0] === 2 ? rand() & 0x3f : t[2];
  }
  return { eps, words };
}

function representationBench(): BenchResult[] {
  const n = 1_000_000;
  const { words } = mixedStream(n, 3);
  const big = new BigUint64Array(n);
  for (let i = 0; i < n; i++) big[i] = (BigInt(words[2 * i]!) << 32n) | BigInt(words[2 * i + 1]!);
  let sink = 0;
  // Three fields of the buffer layout: TYPE [59:52], SIZE [51:44], IOVA [43:0].
  const tBig = bestOf(() => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const w = big[i]!;
      acc += Number((w >> 52n) & 0xffn) + Number((w >> 44n) & 0xffn) + Number(w & 0xfff_ffff_ffffn);
    }
    sink += acc;
  }, 500);
  const tHalves = bestOf(() => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const hi = words[2 * i]!;
      const lo = words[2 * i + 1]!;
      acc += ((hi >>> 20) & 0xff) + ((hi >>> 12) & 0xff) + lo + (hi & 0xfff) * 0x1_0000_0000;
    }
    sink += acc;
  }, 500);
  const tHexBig = bestOf(() => {
    let acc = 0;
    for (let i = 0; i < n; i += 10) acc += big[i]!.toString(16).padStart(16, '0').length;
    sink += acc;
  }, 500);
  const tHexHalves = bestOf(() => {
    let acc = 0;
    for (let i = 0; i < n; i += 10) acc += hex64(words[2 * i]!, words[2 * i + 1]!).length;
    sink += acc;
  }, 500);
  if (sink === 42) console.error('');
  return [
    { name: 'word.fields3.bigint', value: (tBig * 1e6) / n, unit: 'ns/msg' },
    { name: 'word.fields3.halves', value: (tHalves * 1e6) / n, unit: 'ns/msg' },
    { name: 'word.hex.bigint', value: (tHexBig * 1e6) / (n / 10), unit: 'ns/msg' },
    { name: 'word.hex.halves', value: (tHexHalves * 1e6) / (n / 10), unit: 'ns/msg' },
  ];
}

function decodeBench(): BenchResult[] {
  const n = 1_000_000;
  const { eps, words } = mixedStream(n);
  const ctx: DecodeContext = { dir: 'iop->ap' };
  let kinds = 0;
  const t = bestOf(() => {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const m: Message = decodeWords(eps[i]!, words[2 * i]!, words[2 * i + 1]!, ctx);
      k += m.kind.length;
    }
    kinds = k;
  }, 2000);
  const tEnc = bestOf(() => {
    let acc = 0;
    for (let i = 0; i < n; i += 4) {
      const m = decodeWords(eps[i]!, words[2 * i]!, words[2 * i + 1]!, ctx);
      acc += encodeWords(m)[1];
    }
    kinds += acc & 1;
  }, 1000);
  return [
    {
      name: 'codec.decode.mixed',
      value: n / (t / 1000),
      unit: 'msg/s',
      note: `1,000,000 mixed messages into typed values (checksum ${kinds})`,
    },
    { name: 'codec.decode+encode.mixed', value: n / 4 / (tEnc / 1000), unit: 'msg/s' },
  ];
}

function bulkBench(): BenchResult[] {
  const n = 4_000_000;
  const { words } = mixedStream(n, 5);
  const out32 = new Uint32Array(n);
  const out64 = new Float64Array(n);
  const tType = bestOf(() => extractField(BufferField.TYPE, words, out32), 1000);
  const tIova = bestOf(() => extractField(BufferField.IOVA, words, out64), 1000);
  const tCount = bestOf(() => countMatching(BufferField.TYPE, 5, words), 1000);
  return [
    {
      name: 'codec.bulk.field32',
      value: n / (tType / 1000),
      unit: 'msg/s',
      note: 'TYPE [59:52] into Uint32Array',
    },
    {
      name: 'codec.bulk.field44',
      value: n / (tIova / 1000),
      unit: 'msg/s',
      note: 'IOVA [43:0] into Float64Array',
    },
    {
      name: 'codec.bulk.count',
      value: n / (tCount / 1000),
      unit: 'msg/s',
      note: 'count TYPE == 5',
    },
  ];
}

export function run(): BenchResult[] {
  return [...representationBench(), ...decodeBench(), ...bulkBench()];
}
