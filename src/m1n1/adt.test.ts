import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isRtkitError, type RtkitError } from '../errors.js';
import {
  ADT_TEMPLATE_FLAG,
  Adt,
  type AdtInvalidReason,
  type AdtNode,
  type AdtProperty,
  adtNode,
  decodePmgrDevices,
  encodeAdt,
  encodePmgrDevices,
  PMGR_DEVICE_SIZE,
  type PmgrDevice,
  parseAdt,
} from './adt.js';
import { hexBytes, toHex } from './testing/vectors.js';

const opts = (numRuns: number, seed: number) => ({ numRuns, seed, endOnFailure: true });

function thrown(f: () => unknown): RtkitError {
  try {
    f();
  } catch (e) {
    if (isRtkitError(e)) return e;
    throw e;
  }
  throw new Error('expected an RtkitError');
}

function invalidReason(bytes: Uint8Array, o?: Parameters<typeof parseAdt>[1]) {
  const e = thrown(() => parseAdt(bytes, o));
  expect(e.code).toBe(ErrorCode.ADT_INVALID);
  return e.details as { offset: number; reason: AdtInvalidReason };
}

/** 32-byte NUL-padded property name field. */
const nameField = (name: string): string =>
  toHex(Uint8Array.from(name, (c) => c.charCodeAt(0))).padEnd(64, '0');

// A root with two properties and one child; the child has a template property.
const SMALL_HEX = [
  '02000000 01000000', // root: 2 properties, 1 child
  nameField('name'),
  '0c000000', // 12 bytes
  '6465766963652d7472656500', // "device-tree\0"
  nameField('#size-cells'),
  '04000000',
  '02000000',
  '02000000 00000000', // child: 2 properties, no children
  nameField('name'),
  '07000000',
  '61726d2d696f00 00', // "arm-io\0" + 1 pad byte
  nameField('tmpl'),
  '03000080', // 3 bytes, template flag
  '616263 00', // "abc" + 1 pad byte
].join('');
const SMALL = hexBytes(SMALL_HEX);

const prop = (name: string, value: Uint8Array, template = false): AdtProperty => ({
  name,
  value,
  template,
});
const cstr = (s: string) => new TextEncoder().encode(`${s}\0`);
const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};

const SMALL_TREE: AdtNode = {
  name: 'device-tree',
  properties: [prop('name', cstr('device-tree')), prop('#size-cells', u32(2))],
  children: [
    {
      name: 'arm-io',
      properties: [prop('name', cstr('arm-io')), prop('tmpl', cstr('abc').slice(0, 3), true)],
      children: [],
    },
  ],
};

describe('ADT binary format (M1N1-PROXY.md §12)', () => {
  it('parses a hand-assembled tree', () => {
    expect(parseAdt(SMALL, { strict: true })).toEqual(SMALL_TREE);
  });

  it('encodes it byte-exactly', () => {
    expect(toHex(encodeAdt(SMALL_TREE))).toBe(toHex(SMALL));
  });

  it('keeps the template flag (bit 31 of the size) apart from the length', () => {
    const tmpl = parseAdt(SMALL).children[0]?.properties[1];
    expect(tmpl).toEqual(prop('tmpl', Uint8Array.of(0x61, 0x62, 0x63), true));
    expect(ADT_TEMPLATE_FLAG).toBe(0x8000_0000);
  });

  it('encodes the builder output byte-exactly', () => {
    const node = adtNode('device-tree', { '#size-cells': 2 }, [adtNode('arm-io')]);
    const expected = [
      '02000000 01000000',
      nameField('name'),
      '0c000000 6465766963652d7472656500',
      nameField('#size-cells'),
      '04000000 02000000',
      '01000000 00000000',
      nameField('name'),
      '07000000 61726d2d696f0000',
    ].join('');
    expect(toHex(encodeAdt(node))).toBe(toHex(hexBytes(expected)));
  });

  it('ignores bytes after the root, as m1n1 does, unless strict', () => {
    const padded = new Uint8Array(SMALL.length + 16);
    padded.set(SMALL);
    expect(parseAdt(padded, { strict: true })).toEqual(SMALL_TREE);
    padded[SMALL.length + 3] = 0x55;
    expect(parseAdt(padded)).toEqual(SMALL_TREE);
    expect(invalidReason(padded, { strict: true })).toEqual({
      offset: SMALL.length + 3,
      reason: 'padding-not-zero',
    });
  });

  it('ignores non-zero padding unless strict', () => {
    const name = SMALL.slice();
    name[8 + 5] = 0x7a; // a byte after "name\0"
    expect(parseAdt(name)).toEqual(SMALL_TREE);
    expect(invalidReason(name, { strict: true })).toEqual({
      offset: 13,
      reason: 'padding-not-zero',
    });
    const value = SMALL.slice();
    const padAt = SMALL.length - 1; // the pad byte after "abc"
    value[padAt] = 1;
    expect(parseAdt(value)).toEqual(SMALL_TREE);
    expect(invalidReason(value, { strict: true })).toEqual({
      offset: padAt,
      reason: 'padding-not-zero',
    });
  });
});

// -----------------------------------------------------------------------------------------------
// Round trips over random trees

const propName = fc
  .array(fc.integer({ min: 1, max: 0x7f }), { maxLength: 31 })
  .map((cs) => String.fromCharCode(...cs))
  .filter((n) => n !== 'name');
const nodeName = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
const property = fc.record({
  name: propName,
  value: fc.uint8Array({ maxLength: 24 }),
  template: fc.boolean(),
});

/** Trees up to `depth` levels below the node, built without fc.letrec so the depth is bounded. */
function treeArb(depth: number): fc.Arbitrary<AdtNode> {
  const children: fc.Arbitrary<AdtNode[]> =
    depth === 0 ? fc.constant([]) : fc.array(treeArb(depth - 1), { maxLength: 3 });
  return fc
    .record({
      name: nodeName,
      extraNameBytes: fc.uint8Array({ maxLength: 3 }),
      props: fc.array(property, { maxLength: 4 }),
      at: fc.nat(),
      template: fc.boolean(),
      children,
    })
    .map(({ name, extraNameBytes, props, at, template, children }) => {
      // The name property may sit anywhere and carry bytes after its NUL.
      const nameValue = new Uint8Array([...cstr(name), ...extraNameBytes]);
      const properties: AdtProperty[] = [...props];
      properties.splice(at % (props.length + 1), 0, prop('name', nameValue, template));
      return { name, properties, children };
    });
}
const tree = treeArb(3);

describe('round trip', () => {
  it('parse(encode(tree)) is the tree and encode(parse(bytes)) the bytes', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const bytes = encodeAdt(t);
        const back = parseAdt(bytes, { strict: true });
        expect(back).toEqual(t);
        expect(toHex(encodeAdt(back))).toBe(toHex(bytes));
      }),
      opts(300, 0xad7),
    );
  });

  it('handles nesting far deeper than real ADTs without recursion', () => {
    const depth = 10_000;
    let node = adtNode('leaf');
    for (let i = 0; i < depth; i++) node = adtNode('n', {}, [node]);
    const bytes = encodeAdt(node);
    expect(invalidReason(bytes)).toMatchObject({ reason: 'too-deep' });
    const back = parseAdt(bytes, { maxDepth: depth });
    expect(toHex(encodeAdt(back))).toBe(toHex(bytes));
    const adt = new Adt(back);
    expect(adt.find(`${'/n'.repeat(depth - 1)}/leaf`)?.name).toBe('leaf');
    expect(adt.paths()).toHaveLength(depth + 1);
  });
});

// -----------------------------------------------------------------------------------------------
// Builder

describe('adtNode', () => {
  const values = (n: AdtNode) =>
    Object.fromEntries(n.properties.map((p) => [p.name, toHex(p.value)]));

  it('puts the name first and encodes each value kind', () => {
    const raw = Uint8Array.of(1, 2, 3);
    const n = adtNode('smc', {
      compatible: ['iop,ascwrap-v4', 'smc,t8103'],
      model: 'x',
      '#address-cells': 2,
      big: 0x1_0000_0002n,
      cells: { u32: [1, 0xffff_ffff] },
      wide: { u64: [0x2_3e40_0000n] },
      raw,
      empty: [],
    });
    expect(n.name).toBe('smc');
    expect(n.properties[0]).toEqual(prop('name', cstr('smc')));
    expect(n.properties.map((p) => p.name)).toEqual([
      'name',
      'compatible',
      'model',
      '#address-cells',
      'big',
      'cells',
      'wide',
      'raw',
      'empty',
    ]);
    expect(values(n)).toMatchObject({
      compatible: toHex(new Uint8Array([...cstr('iop,ascwrap-v4'), ...cstr('smc,t8103')])),
      model: '7800',
      '#address-cells': '02000000',
      big: '0200000001000000',
      cells: '01000000ffffffff',
      wide: '0000403e02000000',
      raw: '010203',
      empty: '',
    });
    raw[0] = 9;
    expect(values(n).raw).toBe('010203');
  });

  it('refuses what the format cannot hold', () => {
    const bad = (f: () => unknown) => expect(thrown(f).code).toBe(ErrorCode.BAD_INPUT);
    bad(() => adtNode(''));
    bad(() => adtNode('a/b'));
    bad(() => adtNode('x', { name: 'y' }));
    bad(() => adtNode('x', { n: -1 }));
    bad(() => adtNode('x', { n: 2 ** 32 }));
    bad(() => adtNode('x', { n: 1.5 }));
    bad(() => adtNode('x', { n: -1n }));
    bad(() => adtNode('x', { n: 1n << 64n }));
    bad(() => adtNode('x', { n: { u32: [0, 2 ** 32] } }));
    bad(() => adtNode('x', { s: 'a\0b' }));
    bad(() => adtNode('x', { s: ['a', 'b\0'] }));
    bad(() => adtNode('x', { 'a-property-name-of-32-characters': 1 }));
    bad(() => adtNode('x', { 'caf\u00e9': 1 }));
    bad(() => adtNode('x', { '': 1 }));
    bad(() => adtNode('x', { v: { other: 1 } as never }));
  });
});

describe('encodeAdt refuses trees the format cannot hold', () => {
  const enc = (n: AdtNode) =>
    expect(thrown(() => encodeAdt(n)).code).toBe(ErrorCode.ENCODE_INVALID);

  it('a node without a name property, or whose name property disagrees', () => {
    enc({ name: 'x', properties: [], children: [] });
    enc({ name: 'x', properties: [prop('name', cstr('y'))], children: [] });
  });

  it('a property name longer than 31 bytes or not ASCII', () => {
    const base = adtNode('x');
    enc({ ...base, properties: [...base.properties, prop('p'.repeat(32), new Uint8Array())] });
    enc({ ...base, properties: [...base.properties, prop('\u00e9', new Uint8Array())] });
    enc({ ...base, properties: [...base.properties, prop('a\0', new Uint8Array())] });
  });

  it('a cycle', () => {
    const a = { ...adtNode('a'), children: [] as AdtNode[] };
    a.children.push(adtNode('b', {}, [a]));
    enc(a);
  });

  it('but a shared subtree is fine', () => {
    const leaf = adtNode('leaf');
    const bytes = encodeAdt(adtNode('r', {}, [leaf, leaf]));
    expect(new Adt(parseAdt(bytes)).paths()).toEqual(['/', '/leaf', '/leaf']);
  });
});

// -----------------------------------------------------------------------------------------------
// Lookups

const SOC = new Adt(
  adtNode('device-tree', { '#address-cells': 2, '#size-cells': 2 }, [
    adtNode('chosen', { 'chip-id': 0x8103 }),
    adtNode(
      'arm-io',
      {
        '#address-cells': 2,
        '#size-cells': 2,
        compatible: ['arm-io,t8103', 'arm-io'],
        ranges: { u64: [0n, 0x2_0000_0000n, 0x2_0000_0000n] },
      },
      [
        adtNode('smc', {
          compatible: ['iop,ascwrap-v4'],
          reg: { u64: [0x3e40_0000n, 0x4_c000n, 0x3fe0_0000n, 0x10_0000n] },
          'clock-gates': { u32: [2, 3] },
          role: 'SMC',
          odd: Uint8Array.of(1, 2, 3),
          unterminated: Uint8Array.of(0x61, 0, 0x62),
        }),
        adtNode('smc', { marker: 2 }),
        adtNode(
          'apcie',
          {
            '#address-cells': 1,
            '#size-cells': 1,
            // Two entries: bus 0x1000_0000 → arm-io 0x6000_0000, bus 0x2000_0000 → 0x7000_0000.
            ranges: {
              u32: [0x1000_0000, 0x6000_0000, 0, 0x100_0000, 0x2000_0000, 0x7000_0000, 0, 0x1000],
            },
          },
          [
            adtNode('dev', { reg: { u32: [0x1000_4000, 0x4000, 0x2000_0800, 0x10] } }),
            adtNode('outside', { reg: { u32: [0x3000_0000, 0x10] } }),
            adtNode('straddle', { reg: { u32: [0x2000_0f00, 0x200] } }),
          ],
        ),
        adtNode(
          'i2c0',
          { '#address-cells': 2, '#size-cells': 2, reg: { u64: [0x3501_0000n, 0x4000n] } },
          [adtNode('pmu', { reg: { u64: [0x3cn, 0n] } })],
        ),
        adtNode('identity', { '#address-cells': 2, '#size-cells': 2, ranges: new Uint8Array() }, [
          adtNode('dev', { reg: { u64: [0x1234n, 0x10n] } }),
        ]),
        adtNode('defaults', {}, [adtNode('dev', { reg: { u32: [1, 2, 3] } })]),
        adtNode('nosize', { '#address-cells': 1, '#size-cells': 0 }, [
          adtNode('dev', { reg: { u32: [7, 8] } }),
        ]),
        adtNode('wide', { '#address-cells': 3 }, [adtNode('dev', { reg: { u32: [1, 2, 3, 4] } })]),
        adtNode('badranges', { ranges: Uint8Array.of(1, 2, 3, 4) }, [
          adtNode('dev', { reg: { u64: [0n] } }),
        ]),
      ],
    ),
  ]),
);

const notFound = (f: () => unknown) => {
  const e = thrown(f);
  expect(e.code).toBe(ErrorCode.ADT_NOT_FOUND);
  return e.details;
};

describe('Adt lookups', () => {
  it('finds nodes by path, with or without the leading slash', () => {
    expect(SOC.find('/')).toBe(SOC.root);
    expect(SOC.find('')).toBe(SOC.root);
    expect(SOC.root.name).toBe('device-tree');
    expect(SOC.find('/arm-io/smc')?.name).toBe('smc');
    expect(SOC.find('arm-io/smc')).toBe(SOC.find('/arm-io/smc'));
    expect(SOC.find('//arm-io/smc/')).toBe(SOC.find('/arm-io/smc'));
    expect(SOC.find('/arm-io/nope')).toBeUndefined();
    expect(SOC.find('/device-tree')).toBeUndefined();
  });

  it('picks the first of two children with one name', () => {
    expect(SOC.property('/arm-io/smc', 'marker')).toBeUndefined();
    expect(SOC.property('/arm-io/smc', 'role')).toEqual(cstr('SMC'));
  });

  it('node() throws ADT_NOT_FOUND with the path', () => {
    expect(notFound(() => SOC.node('/arm-io/nope'))).toEqual({ path: '/arm-io/nope' });
  });

  it('lists every path pre-order', () => {
    expect(SOC.paths().slice(0, 8)).toEqual([
      '/',
      '/chosen',
      '/arm-io',
      '/arm-io/smc',
      '/arm-io/smc',
      '/arm-io/apcie',
      '/arm-io/apcie/dev',
      '/arm-io/apcie/outside',
    ]);
  });

  it('reads typed properties', () => {
    expect(SOC.u32('/chosen', 'chip-id')).toBe(0x8103);
    expect(SOC.u32s('/arm-io/smc', 'clock-gates')).toEqual([2, 3]);
    expect(SOC.string('/arm-io/smc', 'role')).toBe('SMC');
    expect(SOC.strings('/arm-io', 'compatible')).toEqual(['arm-io,t8103', 'arm-io']);
    expect(SOC.strings('/arm-io/smc', 'unterminated')).toEqual(['a', 'b']);
    expect(SOC.string('/arm-io/smc', 'unterminated')).toBe('a');
    expect(SOC.property('/arm-io/nope', 'x')).toBeUndefined();
  });

  it('reports a missing or mis-sized property with path and name', () => {
    expect(notFound(() => SOC.u32('/arm-io/smc', 'missing'))).toEqual({
      path: '/arm-io/smc',
      property: 'missing',
    });
    expect(notFound(() => SOC.u32('/arm-io/smc', 'odd'))).toEqual({
      path: '/arm-io/smc',
      property: 'odd',
    });
    expect(notFound(() => SOC.u32s('/arm-io/smc', 'odd'))).toMatchObject({ property: 'odd' });
    expect(notFound(() => SOC.string('/nope', 'x'))).toEqual({ path: '/nope' });
  });
});

describe('reg and address translation', () => {
  it('reads reg with the parent bus cells: 2/2', () => {
    expect(SOC.reg('/arm-io/smc')).toEqual([
      { addr: 0x3e40_0000n, size: 0x4_c000n },
      { addr: 0x3fe0_0000n, size: 0x10_0000n },
    ]);
  });

  it('reads reg with 1/1 cells', () => {
    expect(SOC.reg('/arm-io/apcie/dev')).toEqual([
      { addr: 0x1000_4000n, size: 0x4000n },
      { addr: 0x2000_0800n, size: 0x10n },
    ]);
  });

  it("uses m1n1's defaults 2/1 when the bus has no cells, and 0 size cells", () => {
    expect(SOC.reg('/arm-io/defaults/dev')).toEqual([{ addr: 0x2_0000_0001n, size: 3n }]);
    expect(SOC.reg('/arm-io/nosize/dev')).toEqual([
      { addr: 7n, size: 0n },
      { addr: 8n, size: 0n },
    ]);
  });

  it('refuses reg that is not whole entries and unsupported cells', () => {
    expect(notFound(() => SOC.reg('/arm-io/wide/dev'))).toEqual({
      path: '/arm-io/wide',
      property: '#address-cells',
    });
    expect(notFound(() => SOC.reg('/arm-io/badranges/dev'))).toEqual({
      path: '/arm-io/badranges/dev',
      property: 'reg',
    });
    expect(notFound(() => SOC.reg('/chosen'))).toEqual({ path: '/chosen', property: 'reg' });
  });

  it('translates through /arm-io ranges (bus 0 → 0x2_0000_0000)', () => {
    expect(SOC.regAddress('/arm-io/smc')).toEqual({ addr: 0x2_3e40_0000n, size: 0x4_c000n });
    expect(SOC.regAddress('/arm-io/smc', 1)).toEqual({ addr: 0x2_3fe0_0000n, size: 0x10_0000n });
    expect(SOC.translate('/arm-io/smc', 0x3e40_0044n)).toBe(0x2_3e40_0044n);
  });

  it('translates through two levels of ranges, picking the matching entry', () => {
    expect(SOC.regAddress('/arm-io/apcie/dev', 0)).toEqual({
      addr: 0x2_6000_4000n,
      size: 0x4000n,
    });
    expect(SOC.regAddress('/arm-io/apcie/dev', 1)).toEqual({ addr: 0x2_7000_0800n, size: 0x10n });
    expect(SOC.translate('/arm-io/apcie/dev', 0x1000_0000n)).toBe(0x2_6000_0000n);
  });

  it('refuses an address outside every range of a bus that has ranges', () => {
    expect(notFound(() => SOC.regAddress('/arm-io/apcie/outside'))).toEqual({
      path: '/arm-io/apcie',
      property: 'ranges',
      addr: '0x30000000',
      size: '0x10',
    });
    expect(notFound(() => SOC.translate('/arm-io/smc', 0x2_0000_0000n))).toMatchObject({
      path: '/arm-io',
    });
    // The region must fit inside one entry, as m1n1's adt_get_reg requires.
    expect(notFound(() => SOC.regAddress('/arm-io/apcie/straddle'))).toMatchObject({
      path: '/arm-io/apcie',
    });
    expect(SOC.translate('/arm-io/apcie/straddle', 0x2000_0f00n)).toBe(0x2_7000_0f00n);
    expect(notFound(() => SOC.regAddress('/arm-io/badranges/dev'))).toMatchObject({
      property: 'reg',
    });
  });

  it('stops at a bus without ranges (I²C addresses stay local)', () => {
    expect(SOC.regAddress('/arm-io/i2c0/pmu')).toEqual({ addr: 0x3cn, size: 0n });
    expect(SOC.regAddress('/arm-io/i2c0')).toEqual({ addr: 0x2_3501_0000n, size: 0x4000n });
  });

  it('treats an empty ranges as 1:1 and never translates through the root', () => {
    expect(SOC.regAddress('/arm-io/identity/dev').addr).toBe(0x2_0000_1234n);
    expect(SOC.translate('/arm-io', 0x1234n)).toBe(0x1234n);
    expect(SOC.translate('/', 5n)).toBe(5n);
  });

  it('reports a missing reg index', () => {
    expect(notFound(() => SOC.regAddress('/arm-io/smc', 2))).toEqual({
      path: '/arm-io/smc',
      property: 'reg',
      index: 2,
    });
    expect(notFound(() => SOC.regAddress('/arm-io/smc', 0.5))).toMatchObject({ index: 0.5 });
    expect(notFound(() => SOC.translate('/nope', 0n))).toEqual({ path: '/nope' });
  });

  it('refuses ranges that are not whole entries', () => {
    const adt = new Adt(
      adtNode('r', {}, [
        adtNode('bus', { ranges: Uint8Array.of(1, 2, 3, 4) }, [
          adtNode('dev', { reg: { u32: [0, 0, 0] } }),
        ]),
      ]),
    );
    expect(notFound(() => adt.regAddress('/bus/dev'))).toEqual({
      path: '/bus',
      property: 'ranges',
    });
  });
});

// -----------------------------------------------------------------------------------------------
// Malformed bytes

function le32(...words: number[]): string {
  const b = new Uint8Array(words.length * 4);
  const view = new DataView(b.buffer);
  words.forEach((w, i) => {
    view.setUint32(i * 4, w, true);
  });
  return toHex(b);
}

describe('ADT_INVALID for every malformed input', () => {
  it('truncated: empty buffer, header, property header, missing padding', () => {
    expect(invalidReason(new Uint8Array())).toEqual({ offset: 0, reason: 'truncated' });
    expect(invalidReason(SMALL.subarray(0, 5))).toEqual({ offset: 0, reason: 'truncated' });
    // The last property lacks its one pad byte.
    expect(invalidReason(SMALL.subarray(0, SMALL.length - 1))).toEqual({
      offset: SMALL.length - 1,
      reason: 'truncated',
    });
  });

  it('counts that cannot fit in the remaining bytes', () => {
    expect(invalidReason(hexBytes(le32(0xffff_ffff, 0)))).toEqual({
      offset: 0,
      reason: 'counts-too-large',
    });
    expect(invalidReason(hexBytes(le32(0, 0xffff_ffff)))).toEqual({
      offset: 0,
      reason: 'counts-too-large',
    });
    const child = SMALL.slice();
    child.set(hexBytes(le32(0, 0xffff_ffff)), 96); // the child node header
    expect(invalidReason(child)).toEqual({ offset: 96, reason: 'counts-too-large' });
  });

  it('a value past the end', () => {
    const b = SMALL.slice();
    b.set(hexBytes(le32(0x7fff_fff0)), 40); // root's name size
    expect(invalidReason(b)).toEqual({ offset: 40, reason: 'value-past-end' });
    b.set(hexBytes(le32(0xffff_fff0)), 40); // with the template flag too
    expect(invalidReason(b)).toEqual({ offset: 40, reason: 'value-past-end' });
  });

  it('a property name without NUL or not ASCII', () => {
    const b = SMALL.slice();
    b.fill(0x41, 8, 40);
    expect(invalidReason(b)).toEqual({ offset: 8, reason: 'name-unterminated' });
    const c = SMALL.slice();
    c[10] = 0xc3;
    expect(invalidReason(c)).toEqual({ offset: 10, reason: 'name-not-ascii' });
  });

  it('a node without a name property', () => {
    const b = SMALL.slice();
    b[8] = 0x4e; // "Name" is not "name"
    expect(invalidReason(b)).toEqual({ offset: 0, reason: 'no-name' });
    expect(invalidReason(hexBytes(le32(0, 0)))).toEqual({ offset: 0, reason: 'no-name' });
  });

  it('nesting deeper than maxDepth, more nodes than maxNodes', () => {
    const chain = encodeAdt(adtNode('a', {}, [adtNode('b', {}, [adtNode('c')])]));
    expect(parseAdt(chain, { maxDepth: 2 }).children[0]?.children[0]?.name).toBe('c');
    expect(invalidReason(chain, { maxDepth: 1 })).toMatchObject({ reason: 'too-deep' });
    expect(parseAdt(chain, { maxNodes: 3 }).name).toBe('a');
    expect(invalidReason(chain, { maxNodes: 2 })).toMatchObject({ reason: 'too-many-nodes' });
    let deep = adtNode('leaf');
    for (let i = 0; i < 64; i++) deep = adtNode('n', {}, [deep]);
    expect(() => parseAdt(encodeAdt(deep))).not.toThrow(); // depth 64: the default limit
    expect(invalidReason(encodeAdt(adtNode('top', {}, [deep])))).toMatchObject({
      reason: 'too-deep',
    });
  });

  it('bad options are BAD_INPUT', () => {
    expect(thrown(() => parseAdt(SMALL, { maxDepth: -1 })).code).toBe(ErrorCode.BAD_INPUT);
    expect(thrown(() => parseAdt(SMALL, { maxNodes: 1.5 })).code).toBe(ErrorCode.BAD_INPUT);
  });

  it('every truncation of a small tree', () => {
    const bytes = encodeAdt(SOC.root);
    for (let cut = 0; cut < bytes.length; cut++) {
      const d = invalidReason(bytes.subarray(0, cut));
      expect(d.offset).toBeLessThanOrEqual(cut);
      expect(['truncated', 'counts-too-large', 'value-past-end']).toContain(d.reason);
    }
  });
});

describe('fuzz: random and mutated bytes', () => {
  const valid = [SMALL, encodeAdt(SOC.root)];
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc
      .tuple(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
      )
      .map(([base, edits, cut]) => {
        const b = base.slice(0, (cut % base.length) + 1 + (cut % 3 === 0 ? base.length : 0));
        for (const [at, v] of edits) b[at % b.length] = v;
        return b;
      }),
  );

  it('only ever throws ADT_INVALID; what parses re-encodes to the same tree', () => {
    fc.assert(
      fc.property(input, fc.boolean(), (bytes, strict) => {
        let root: AdtNode;
        try {
          root = parseAdt(bytes, { strict });
        } catch (e) {
          expect(isRtkitError(e, ErrorCode.ADT_INVALID)).toBe(true);
          const d = (e as RtkitError).details as { offset: number };
          expect(d.offset).toBeGreaterThanOrEqual(0);
          expect(d.offset).toBeLessThanOrEqual(bytes.length);
          return;
        }
        const again = encodeAdt(root);
        expect(parseAdt(again, { strict: true })).toEqual(root);
        if (strict) {
          // Strict input is byte-exact: the encoding is its prefix and the rest is zero.
          expect(toHex(bytes.subarray(0, again.length))).toBe(toHex(again));
          expect(bytes.subarray(again.length).every((x) => x === 0)).toBe(true);
        }
      }),
      opts(3000, 0xf022),
    );
  });

  it('rejects huge declared counts and sizes without allocating or looping on them', () => {
    for (const words of [
      [0xffff_ffff, 0xffff_ffff],
      [1, 0xffff_ffff],
      [0x0fff_ffff, 0],
    ]) {
      expect(invalidReason(hexBytes(le32(...words, 0, 0, 0, 0)))).toMatchObject({
        reason: 'counts-too-large',
      });
    }
  });
});

// -----------------------------------------------------------------------------------------------
// PMGR devices

describe('PMGR devices records', () => {
  const devices: PmgrDevice[] = [
    { flags: 0, id: 1, parents: [0, 0], psidx: 1, psreg: 0, name: 'I2C0' },
    { flags: 0x10, id: 7, parents: [1, 2], psidx: 9, psreg: 3, name: 'PS_SMC_SIXTEEN_C' },
  ];

  it('encode places every field where m1n1 reads it', () => {
    const b = encodePmgrDevices(devices);
    expect(b.length).toBe(2 * PMGR_DEVICE_SIZE);
    const r = b.subarray(PMGR_DEVICE_SIZE);
    const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
    expect(r[0]).toBe(0x10);
    expect(r[3]).toBe(7);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([1, 2]);
    expect([r[10], r[11]]).toEqual([9, 3]);
    expect(r.subarray(16, 24).every((x) => x === 0)).toBe(true);
    expect(v.getUint16(26, true)).toBe(7);
    expect(new TextDecoder().decode(r.subarray(32, 48))).toBe('PS_SMC_SIXTEEN_C');
  });

  it('decode round-trips', () => {
    expect(decodePmgrDevices(encodePmgrDevices(devices))).toEqual(devices);
  });

  it('decode uses the 16-bit id when the first two byte-3 ids are equal', () => {
    const b = encodePmgrDevices(devices);
    b[3] = 0;
    b[PMGR_DEVICE_SIZE + 3] = 0;
    b[26] = 0x34;
    b[27] = 0x12;
    expect(decodePmgrDevices(b).map((d) => d.id)).toEqual([0x1234, 7]);
  });

  it('refuses records the 8-bit id scheme cannot hold and partial records', () => {
    const enc = (d: PmgrDevice[]) =>
      expect(thrown(() => encodePmgrDevices(d)).code).toBe(ErrorCode.ENCODE_INVALID);
    const first = devices[0] as PmgrDevice;
    enc([{ ...first, id: 0 }]);
    enc([{ ...first, id: 256 }]);
    enc([first, { ...first, name: 'OTHER' }]);
    enc([{ ...first, name: 'X'.repeat(17) }]);
    enc([{ ...first, name: 'caf\u00e9' }]);
    enc([{ ...first, psidx: 256 }]);
    enc([{ ...first, parents: [0x1_0000, 0] }]);
    expect(thrown(() => decodePmgrDevices(new Uint8Array(47))).code).toBe(ErrorCode.ADT_INVALID);
  });
});
