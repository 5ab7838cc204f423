/**
 * The Apple device tree (ADT) that iBoot hands to the OS and m1n1 passes on through its boot args
 * (M1N1-PROXY.md §11.2, §12). A pre-order serialisation of nodes, little-endian:
 *
 *   node     = u32 n_properties, u32 n_children, properties, children
 *   property = char name[32] (NUL-padded), u32 size (bit 31 = template), value, zero pad to 4
 *
 * The bytes come from the device, so they are untrusted: the parser is iterative with a bounded
 * depth and node count, checks every count and size against the bytes that remain before it
 * loops or allocates, and reports problems as `ADT_INVALID` with the offset and a reason.
 *
 * Lookup and address rules follow m1n1 (`src/adt.c` on the device, `proxyclient/m1n1/adt.py` on
 * the host); docs/adt.md lists where the two differ and which one we follow.
 */

import { ErrorCode, RtkitError } from '../errors.js';

/** Bytes of a property name field, NUL terminator included. */
export const ADT_PROP_NAME_SIZE = 32;
/** Bit 31 of a property's size word: the value is a template (iBoot fills it in at boot). */
export const ADT_TEMPLATE_FLAG = 0x8000_0000;
const SIZE_MASK = 0x7fff_ffff;
const NODE_HEADER = 8;
const PROP_HEADER = ADT_PROP_NAME_SIZE + 4;
const MAX_PROP_NAME_LENGTH = ADT_PROP_NAME_SIZE - 1;

export interface AdtProperty {
  readonly name: string;
  readonly value: Uint8Array;
  readonly template: boolean;
}

export interface AdtNode {
  /** The node's `name` property: its first NUL-terminated string. */
  readonly name: string;
  readonly properties: readonly AdtProperty[];
  readonly children: readonly AdtNode[];
}

export interface AdtParseOptions {
  /** Deepest nesting accepted; the root is depth 0 (default 64; real ADTs nest about 6 deep). */
  maxDepth?: number;
  /** Most nodes accepted (default 100 000; a real ADT has about 1 000). */
  maxNodes?: number;
  /**
   * Also reject non-zero padding: after a property name's NUL, after a value, and after the
   * root. iBoot zeroes all of it (m1n1's adt.py asserts so when it round-trips a real ADT), and
   * only then is `encodeAdt(parseAdt(bytes))` byte-identical. Default false: padding is ignored.
   */
  strict?: boolean;
}

/** `details.reason` of an `ADT_INVALID` error. */
export type AdtInvalidReason =
  | 'truncated'
  | 'counts-too-large'
  | 'value-past-end'
  | 'name-unterminated'
  | 'name-not-ascii'
  | 'no-name'
  | 'too-deep'
  | 'too-many-nodes'
  | 'padding-not-zero';

const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_NODES = 100_000;

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
/** Names in messages come from untrusted bytes: quoted, control characters escaped. */
const q = (s: string): string => JSON.stringify(s);

function invalid(offset: number, reason: AdtInvalidReason, message: string): RtkitError {
  return new RtkitError(ErrorCode.ADT_INVALID, `at offset ${hex(offset)}: ${message}`, {
    offset,
    reason,
  });
}

function notFound(message: string, details: Record<string, unknown>): RtkitError {
  return new RtkitError(ErrorCode.ADT_NOT_FOUND, message, details);
}

/** First NUL-terminated string of a value (the whole value when it has no NUL). */
function firstString(value: Uint8Array): string {
  const end = value.indexOf(0);
  return utf8.decode(end < 0 ? value : value.subarray(0, end));
}

/** Why `name` cannot be a property name, or undefined when it can. */
function propNameProblem(name: string): string | undefined {
  if (name.length > MAX_PROP_NAME_LENGTH) {
    return `property name ${q(name)} is longer than ${MAX_PROP_NAME_LENGTH} characters`;
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0 || c > 0x7f) return `property name ${q(name)} must be ASCII without NUL`;
  }
  return undefined;
}

function nonNegativeOption(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `${what} must be a non-negative integer`, { value });
  }
  return value;
}

interface Frame {
  readonly name: string;
  readonly properties: AdtProperty[];
  readonly children: AdtNode[];
  remaining: number;
}

/**
 * Parse ADT bytes. Bytes after the root are ignored (m1n1's loader parses one node and ignores
 * the rest; iBoot's buffer ends in zero padding), unless `strict` is set and they are not zero.
 * Throws `ADT_INVALID` ({ offset, reason }) for malformed bytes, `BAD_INPUT` for bad options.
 */
export function parseAdt(bytes: Uint8Array, opts: AdtParseOptions = {}): AdtNode {
  const maxDepth = nonNegativeOption(opts.maxDepth, DEFAULT_MAX_DEPTH, 'maxDepth');
  const maxNodes = nonNegativeOption(opts.maxNodes, DEFAULT_MAX_NODES, 'maxNodes');
  const strict = opts.strict === true;
  const total = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  let nodes = 0;

  const requireZero = (from: number, to: number, what: string): void => {
    for (let i = from; i < to; i++) {
      if (bytes[i] !== 0) throw invalid(i, 'padding-not-zero', `${what} is not zero`);
    }
  };

  const readNode = (): Frame => {
    const start = off;
    if (++nodes > maxNodes) {
      throw invalid(start, 'too-many-nodes', `more than ${maxNodes} nodes (maxNodes)`);
    }
    if (total - off < NODE_HEADER) {
      throw invalid(start, 'truncated', `node header needs ${NODE_HEADER} bytes`);
    }
    const nProps = view.getUint32(off, true);
    const nChildren = view.getUint32(off + 4, true);
    off += NODE_HEADER;
    // A lower bound on what the counts need: checked before any loop runs on them.
    const need = nProps * PROP_HEADER + nChildren * NODE_HEADER;
    if (need > total - off) {
      throw invalid(
        start,
        'counts-too-large',
        `node declares ${nProps} properties and ${nChildren} children, which need at least ` +
          `${need} bytes, but ${total - off} remain`,
      );
    }
    const properties: AdtProperty[] = [];
    let name: string | undefined;
    for (let i = 0; i < nProps; i++) {
      const propStart = off;
      if (total - off < PROP_HEADER) {
        throw invalid(propStart, 'truncated', `property header needs ${PROP_HEADER} bytes`);
      }
      const nul = bytes.subarray(off, off + ADT_PROP_NAME_SIZE).indexOf(0);
      if (nul < 0) {
        throw invalid(
          propStart,
          'name-unterminated',
          `property name has no NUL in its ${ADT_PROP_NAME_SIZE} bytes`,
        );
      }
      let propName = '';
      for (let j = 0; j < nul; j++) {
        const c = bytes[off + j] as number;
        if (c > 0x7f) {
          throw invalid(off + j, 'name-not-ascii', `property name byte ${hex(c)} is not ASCII`);
        }
        propName += String.fromCharCode(c);
      }
      if (strict) requireZero(off + nul + 1, off + ADT_PROP_NAME_SIZE, 'property name padding');
      const sizeWord = view.getUint32(off + ADT_PROP_NAME_SIZE, true);
      const size = sizeWord & SIZE_MASK;
      const valueStart = off + PROP_HEADER;
      if (size > total - valueStart) {
        throw invalid(
          off + ADT_PROP_NAME_SIZE,
          'value-past-end',
          `property ${q(propName)} is ${size} bytes, but ${total - valueStart} remain`,
        );
      }
      const padded = (size + 3) & ~3;
      if (padded > total - valueStart) {
        throw invalid(
          valueStart + size,
          'truncated',
          `property ${q(propName)} lacks its padding to a multiple of 4`,
        );
      }
      if (strict) requireZero(valueStart + size, valueStart + padded, 'value padding');
      const value = bytes.slice(valueStart, valueStart + size);
      properties.push({ name: propName, value, template: sizeWord >>> 31 === 1 });
      if (name === undefined && propName === 'name') name = firstString(value);
      off = valueStart + padded;
    }
    if (name === undefined) {
      // m1n1's loader refuses such a node too ("Node ... has no name!"): paths need names.
      throw invalid(start, 'no-name', 'node has no name property');
    }
    return { name, properties, children: [], remaining: nChildren };
  };

  const stack: Frame[] = [readNode()];
  let root: AdtNode | undefined;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.remaining > 0) {
      top.remaining--;
      if (stack.length > maxDepth) {
        throw invalid(off, 'too-deep', `nodes nest deeper than ${maxDepth} (maxDepth)`);
      }
      stack.push(readNode());
      continue;
    }
    stack.pop();
    const node: AdtNode = { name: top.name, properties: top.properties, children: top.children };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
  }
  if (strict) requireZero(off, total, 'trailing byte after the root');
  return root as AdtNode;
}

/**
 * Serialise a tree: the exact inverse of `parseAdt` for well-formed bytes (zero padding). Each
 * node's `name` property must exist and decode to `node.name`. Throws `ENCODE_INVALID` for a
 * property name or value the format cannot hold, or a cycle.
 */
export function encodeAdt(root: AdtNode): Uint8Array {
  // Pre-order is also the serialisation order, so one flat list serves both passes.
  const order: AdtNode[] = [];
  let size = 0;
  const stack: { node: AdtNode; depth: number }[] = [{ node: root, depth: 0 }];
  const path: AdtNode[] = [];
  const onPath = new Set<AdtNode>();
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: AdtNode; depth: number };
    while (path.length > depth) onPath.delete(path.pop() as AdtNode);
    if (onPath.has(node)) {
      throw new RtkitError(ErrorCode.ENCODE_INVALID, `node ${q(node.name)} contains itself`, {
        node: node.name,
      });
    }
    path.push(node);
    onPath.add(node);
    order.push(node);
    size += NODE_HEADER;
    let named = false;
    for (const p of node.properties) {
      const problem = propNameProblem(p.name);
      if (problem !== undefined) {
        throw new RtkitError(ErrorCode.ENCODE_INVALID, problem, { node: node.name });
      }
      if (p.value.length > SIZE_MASK) {
        throw new RtkitError(
          ErrorCode.ENCODE_INVALID,
          `property ${q(p.name)} is longer than ${SIZE_MASK} bytes`,
          { node: node.name, property: p.name },
        );
      }
      if (!named && p.name === 'name') {
        named = true;
        if (firstString(p.value) !== node.name) {
          throw new RtkitError(
            ErrorCode.ENCODE_INVALID,
            `node ${q(node.name)} has a name property that reads ${q(firstString(p.value))}`,
            { node: node.name },
          );
        }
      }
      size += PROP_HEADER + ((p.value.length + 3) & ~3);
    }
    if (!named) {
      throw new RtkitError(ErrorCode.ENCODE_INVALID, `node ${q(node.name)} has no name property`, {
        node: node.name,
      });
    }
    if (size > SIZE_MASK) {
      throw new RtkitError(ErrorCode.ENCODE_INVALID, `tree is larger than ${SIZE_MASK} bytes`);
    }
    for (let i = node.children.length - 1; i >= 0; i--) {
      stack.push({ node: node.children[i] as AdtNode, depth: depth + 1 });
    }
  }

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const node of order) {
    view.setUint32(off, node.properties.length, true);
    view.setUint32(off + 4, node.children.length, true);
    off += NODE_HEADER;
    for (const p of node.properties) {
      for (let i = 0; i < p.name.length; i++) out[off + i] = p.name.charCodeAt(i);
      const word = (p.value.length | (p.template ? ADT_TEMPLATE_FLAG : 0)) >>> 0;
      view.setUint32(off + ADT_PROP_NAME_SIZE, word, true);
      out.set(p.value, off + PROP_HEADER);
      off += PROP_HEADER + ((p.value.length + 3) & ~3);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builder

/** A property value for `adtNode`; see there for the encodings. */
export type AdtValue =
  | string
  | readonly string[]
  | number
  | bigint
  | Uint8Array
  | { readonly u32: readonly number[] }
  | { readonly u64: readonly bigint[] };

function badValue(property: string, message: string): RtkitError {
  return new RtkitError(ErrorCode.BAD_INPUT, `property '${property}': ${message}`, { property });
}

function cString(property: string, s: string): Uint8Array {
  if (s.includes('\0')) throw badValue(property, 'a string must not contain NUL');
  const b = utf8Encoder.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

function u32Array(property: string, values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
      throw badValue(property, `${v} is not a u32`);
    }
    view.setUint32(i * 4, v, true);
  });
  return out;
}

function u64Array(property: string, values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffff_ffff_ffff_ffffn) {
      throw badValue(property, `${String(v)} is not a u64`);
    }
    view.setBigUint64(i * 8, v, true);
  });
  return out;
}

function encodeValue(property: string, value: AdtValue): Uint8Array {
  if (typeof value === 'string') return cString(property, value);
  if (typeof value === 'number') return u32Array(property, [value]);
  if (typeof value === 'bigint') return u64Array(property, [value]);
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) {
    const parts = (value as readonly unknown[]).map((s) => {
      if (typeof s !== 'string') throw badValue(property, 'a string list holds only strings');
      return cString(property, s);
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    if ('u32' in value && Array.isArray(value.u32)) return u32Array(property, value.u32);
    if ('u64' in value && Array.isArray(value.u64)) return u64Array(property, value.u64);
  }
  throw badValue(property, 'unsupported value');
}

/**
 * Build a node. The `name` property comes first (NUL-terminated); then `props` in insertion
 * order: string → NUL-terminated UTF-8; string[] → NUL-terminated strings back to back
 * (`compatible`); number → u32 LE; bigint → u64 LE; `{ u32: [..] }` / `{ u64: [..] }` → LE
 * arrays; Uint8Array → copied as is. Throws `BAD_INPUT` for a value that does not fit.
 */
export function adtNode(
  name: string,
  props: Readonly<Record<string, AdtValue>> = {},
  children: readonly AdtNode[] = [],
): AdtNode {
  if (name.length === 0 || name.includes('/')) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `node name ${q(name)} must be non-empty, no '/'`, {
      name,
    });
  }
  const properties: AdtProperty[] = [
    { name: 'name', value: cString('name', name), template: false },
  ];
  for (const [key, value] of Object.entries(props)) {
    if (key === 'name') {
      throw badValue(key, 'the name property comes from the first argument of adtNode');
    }
    const problem = propNameProblem(key);
    if (problem !== undefined || key.length === 0) {
      throw new RtkitError(ErrorCode.BAD_INPUT, problem ?? 'empty property name', {
        property: key,
      });
    }
    properties.push({ name: key, value: encodeValue(key, value), template: false });
  }
  return { name, properties, children: [...children] };
}

// ---------------------------------------------------------------------------------------------
// Lookup and addresses

export interface AdtReg {
  readonly addr: bigint;
  readonly size: bigint;
}

/**
 * Cell counts when a bus omits them: m1n1's device side (src/adt.c `adt_get_reg`) defaults to 2
 * address cells and 1 size cell, as the Devicetree specification does; it accepts 1–2 address
 * cells and 0–2 size cells, and so do we.
 */
export const ADT_DEFAULT_ADDRESS_CELLS = 2;
export const ADT_DEFAULT_SIZE_CELLS = 1;

interface Cells {
  readonly address: number;
  readonly size: number;
}

const U64 = 64;

/** Read `count` little-endian u32 cells at `at`, cell 0 the least significant (m1n1's order). */
function readCells(view: DataView, at: number, count: number): bigint {
  let v = 0n;
  for (let i = 0; i < count; i++) v |= BigInt(view.getUint32(at + i * 4, true)) << BigInt(32 * i);
  return v;
}

function viewOf(value: Uint8Array): DataView {
  return new DataView(value.buffer, value.byteOffset, value.byteLength);
}

function joinPath(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

/** A parsed ADT with lookups by path (`/arm-io/smc`, built from `name` properties). */
export class Adt {
  readonly root: AdtNode;

  constructor(root: AdtNode) {
    this.root = root;
  }

  static parse(bytes: Uint8Array, opts?: AdtParseOptions): Adt {
    return new Adt(parseAdt(bytes, opts));
  }

  /**
   * The nodes from the root to `path`, or undefined. Empty components are skipped, so `/`,
   * `arm-io/smc` and `/arm-io/smc/` all work; the first child with a matching name wins (as in
   * both m1n1 implementations).
   */
  private chain(path: string): AdtNode[] | undefined {
    const chain = [this.root];
    let node = this.root;
    for (const part of path.split('/')) {
      if (part === '') continue;
      const next = node.children.find((c) => c.name === part);
      if (next === undefined) return undefined;
      chain.push(next);
      node = next;
    }
    return chain;
  }

  private requireChain(path: string): AdtNode[] {
    const chain = this.chain(path);
    if (chain === undefined) throw notFound(`no node at ${q(path)}`, { path });
    return chain;
  }

  find(path: string): AdtNode | undefined {
    return this.chain(path)?.at(-1);
  }

  /** The node at `path`; throws `ADT_NOT_FOUND` ({ path }). */
  node(path: string): AdtNode {
    return this.requireChain(path).at(-1) as AdtNode;
  }

  /** The value of the node's first property called `name`; undefined if either is missing. */
  property(path: string, name: string): Uint8Array | undefined {
    return this.find(path)?.properties.find((p) => p.name === name)?.value;
  }

  private required(path: string, name: string): Uint8Array {
    const node = this.node(path);
    const value = node.properties.find((p) => p.name === name)?.value;
    if (value === undefined) {
      throw notFound(`${q(path)} has no property ${q(name)}`, { path, property: name });
    }
    return value;
  }

  /** A u32 property; throws `ADT_NOT_FOUND` ({ path, property }) if missing or not 4 bytes. */
  u32(path: string, name: string): number {
    const value = this.required(path, name);
    if (value.length !== 4) {
      throw notFound(`${q(path)} ${q(name)} is ${value.length} bytes, not a u32`, {
        path,
        property: name,
      });
    }
    return viewOf(value).getUint32(0, true);
  }

  /** A u32 array property (`clock-gates`); throws `ADT_NOT_FOUND` if its size is not 4·n. */
  u32s(path: string, name: string): number[] {
    const value = this.required(path, name);
    if (value.length % 4 !== 0) {
      throw notFound(`${q(path)} ${q(name)} is ${value.length} bytes, not a u32 array`, {
        path,
        property: name,
      });
    }
    const view = viewOf(value);
    return Array.from({ length: value.length / 4 }, (_, i) => view.getUint32(i * 4, true));
  }

  /** The first NUL-terminated string (the whole value if it has no NUL), decoded as UTF-8. */
  string(path: string, name: string): string {
    return firstString(this.required(path, name));
  }

  /** All NUL-terminated strings (`compatible`); a missing final NUL is tolerated. */
  strings(path: string, name: string): string[] {
    const value = this.required(path, name);
    const out: string[] = [];
    let start = 0;
    while (start < value.length) {
      const nul = value.indexOf(0, start);
      const end = nul < 0 ? value.length : nul;
      out.push(utf8.decode(value.subarray(start, end)));
      start = end + 1;
    }
    return out;
  }

  private cells(node: AdtNode, nodePath: string): Cells {
    const read = (name: string, fallback: number, min: number): number => {
      const p = node.properties.find((q) => q.name === name);
      if (p === undefined) return fallback;
      if (p.value.length !== 4) {
        throw notFound(`${q(nodePath)} ${q(name)} is ${p.value.length} bytes, not a u32`, {
          path: nodePath,
          property: name,
        });
      }
      const v = viewOf(p.value).getUint32(0, true);
      if (v < min || v > 2) {
        throw notFound(`${q(nodePath)} ${q(name)} is ${v}; m1n1 supports ${min} to 2`, {
          path: nodePath,
          property: name,
        });
      }
      return v;
    };
    return {
      address: read('#address-cells', ADT_DEFAULT_ADDRESS_CELLS, 1),
      size: read('#size-cells', ADT_DEFAULT_SIZE_CELLS, 0),
    };
  }

  /**
   * The raw `reg` entries of `path`, in its parent bus's address space, with the parent's
   * `#address-cells` / `#size-cells` (defaults 2 / 1; the root's own cells for the root).
   * Throws `ADT_NOT_FOUND` if the node or `reg` is missing or `reg` is not whole entries.
   */
  reg(path: string): AdtReg[] {
    const chain = this.requireChain(path);
    return this.regOf(chain, path);
  }

  private regOf(chain: readonly AdtNode[], path: string): AdtReg[] {
    const node = chain.at(-1) as AdtNode;
    const bus = chain.at(-2) ?? node;
    const busPath = joinPath(chain.slice(1, -1).map((n) => n.name));
    const cells = this.cells(bus, busPath);
    const value = node.properties.find((p) => p.name === 'reg')?.value;
    if (value === undefined)
      throw notFound(`${q(path)} has no property 'reg'`, { path, property: 'reg' });
    const entry = (cells.address + cells.size) * 4;
    if (value.length % entry !== 0) {
      throw notFound(
        `${q(path)} 'reg' is ${value.length} bytes, not a multiple of ${entry} ` +
          `(${cells.address} address + ${cells.size} size cells of ${q(busPath)})`,
        { path, property: 'reg' },
      );
    }
    const view = viewOf(value);
    const out: AdtReg[] = [];
    for (let at = 0; at < value.length; at += entry) {
      out.push({
        addr: readCells(view, at, cells.address),
        size: readCells(view, at + cells.address * 4, cells.size),
      });
    }
    return out;
  }

  /**
   * Translate `addr`, an address as it appears in the `reg` of the node at `path` (so in its
   * parent bus's space), to a CPU physical address: through the `ranges` of each ancestor bus
   * from the parent upwards, stopping at the first ancestor without `ranges` (its children's
   * addresses are local, e.g. I²C addresses under `/arm-io/i2c0`, as in m1n1) or at the root.
   * A `ranges` entry is { child address (bus's #address-cells), parent address (the bus
   * parent's #address-cells), size (bus's #size-cells) }; an empty `ranges` maps 1:1. An
   * address outside every entry of a bus that has some throws `ADT_NOT_FOUND` (m1n1 silently
   * leaves it untranslated).
   */
  translate(path: string, addr: bigint): bigint {
    return this.translateChain(this.requireChain(path), addr, 0n);
  }

  private translateChain(chain: readonly AdtNode[], addr: bigint, size: bigint): bigint {
    let a = addr;
    for (let i = chain.length - 2; i >= 1; i--) {
      const bus = chain[i] as AdtNode;
      const ranges = bus.properties.find((p) => p.name === 'ranges')?.value;
      if (ranges === undefined) break;
      if (ranges.length === 0) continue;
      const busPath = joinPath(chain.slice(1, i + 1).map((n) => n.name));
      const parentPath = joinPath(chain.slice(1, i).map((n) => n.name));
      const child = this.cells(bus, busPath);
      const parentCells = this.cells(chain[i - 1] as AdtNode, parentPath).address;
      const entry = (child.address + parentCells + child.size) * 4;
      if (ranges.length % entry !== 0) {
        throw notFound(
          `${q(busPath)} 'ranges' is ${ranges.length} bytes, not a multiple of ${entry}`,
          { path: busPath, property: 'ranges' },
        );
      }
      const view = viewOf(ranges);
      let mapped: bigint | undefined;
      for (let at = 0; at < ranges.length && mapped === undefined; at += entry) {
        const bus0 = readCells(view, at, child.address);
        const parent0 = readCells(view, at + child.address * 4, parentCells);
        const len = readCells(view, at + (child.address + parentCells) * 4, child.size);
        // A region must fit in one range, as m1n1's adt_get_reg requires; a bare address
        // (size 0) only has to start inside it.
        const inside = size === 0n ? a < bus0 + len : a + size <= bus0 + len;
        if (a >= bus0 && inside) mapped = BigInt.asUintN(U64, a - bus0 + parent0);
      }
      if (mapped === undefined) {
        throw notFound(
          `address ${hex(a)}${size > 0n ? ` (size ${hex(size)})` : ''} is outside every ` +
            `range of ${q(busPath)}`,
          { path: busPath, property: 'ranges', addr: hex(a), size: hex(size) },
        );
      }
      a = mapped;
    }
    return a;
  }

  /** `reg[index]` of `path` translated to a CPU physical address (size unchanged). */
  regAddress(path: string, index = 0): AdtReg {
    const chain = this.requireChain(path);
    const regs = this.regOf(chain, path);
    const r = Number.isInteger(index) ? regs[index] : undefined;
    if (r === undefined) {
      throw notFound(`${q(path)} has ${regs.length} reg entries, no index ${index}`, {
        path,
        property: 'reg',
        index,
      });
    }
    return { addr: this.translateChain(chain, r.addr, r.size), size: r.size };
  }

  /** Every node's path, pre-order (`/`, `/arm-io`, `/arm-io/pmgr`, …). */
  paths(): string[] {
    const out: string[] = [];
    const stack: { node: AdtNode; path: string }[] = [{ node: this.root, path: '/' }];
    while (stack.length > 0) {
      const { node, path } = stack.pop() as { node: AdtNode; path: string };
      out.push(path);
      const prefix = path === '/' ? '/' : `${path}/`;
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i] as AdtNode;
        stack.push({ node: child, path: prefix + child.name });
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// PMGR `devices` records

/**
 * Bytes of one record of `/arm-io/pmgr` `devices`. Field offsets as m1n1 reads them
 * (adt.py `PMGRDevices`, src/pmgr.c `struct pmgr_device`): flags at 0 (0x10 = virtual, no
 * power-state register), an 8-bit id at 3, two u16 parent ids at 4, the power-state index at 10
 * and the `ps-regs` index at 11, two u32 that must be zero at 16 (adt.py parses them as
 * constants), a u16 id at 26, and a NUL-padded ASCII name at 32.
 */
export const PMGR_DEVICE_SIZE = 48;
const PMGR_NAME_OFFSET = 32;
const PMGR_NAME_SIZE = 16;

export interface PmgrDevice {
  readonly flags: number;
  /** The device id that `clock-gates` entries name (bits [15:0]; bits [31:28] are the die). */
  readonly id: number;
  readonly parents: readonly [number, number];
  /** Power-state register: `reg[ps-regs[psreg].reg] + ps-regs[psreg].offset + psidx · 8`. */
  readonly psidx: number;
  readonly psreg: number;
  readonly name: string;
}

/**
 * Encode records. The id goes to both id fields: newer m1n1 tooling compares the first two
 * records' byte-3 ids to pick the 8-bit (byte 3) or 16-bit (offset 26) field, older tooling and
 * m1n1 itself read offset 26, and both then agree. Ids must be 1–255 and distinct.
 */
export function encodePmgrDevices(devices: readonly PmgrDevice[]): Uint8Array {
  const out = new Uint8Array(devices.length * PMGR_DEVICE_SIZE);
  const view = new DataView(out.buffer);
  const seen = new Set<number>();
  devices.forEach((d, i) => {
    const bad = (message: string) =>
      new RtkitError(ErrorCode.ENCODE_INVALID, `pmgr device ${i} ${q(d.name)}: ${message}`, {
        index: i,
      });
    const u8 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xff;
    const u16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
    if (!u8(d.id) || d.id === 0 || seen.has(d.id)) throw bad(`id ${d.id} is not a new 1–255`);
    seen.add(d.id);
    if (!u8(d.flags) || !u8(d.psidx) || !u8(d.psreg)) throw bad('flags/psidx/psreg must be u8');
    if (!u16(d.parents[0]) || !u16(d.parents[1])) throw bad('parents must be u16');
    if (d.name.length > PMGR_NAME_SIZE || !/^[\x20-\x7e]*$/.test(d.name)) {
      throw bad(`name must be printable ASCII of at most ${PMGR_NAME_SIZE} characters`);
    }
    const at = i * PMGR_DEVICE_SIZE;
    out[at] = d.flags;
    out[at + 3] = d.id;
    view.setUint16(at + 4, d.parents[0], true);
    view.setUint16(at + 6, d.parents[1], true);
    out[at + 10] = d.psidx;
    out[at + 11] = d.psreg;
    view.setUint16(at + 26, d.id, true);
    for (let j = 0; j < d.name.length; j++) out[at + PMGR_NAME_OFFSET + j] = d.name.charCodeAt(j);
  });
  return out;
}

/**
 * Decode a `devices` value. `id` follows the newer tooling's rule (byte 3 when the first two
 * records' byte-3 values differ, else the u16 at 26). Throws `ADT_INVALID` if the size is not a
 * whole number of records.
 */
export function decodePmgrDevices(value: Uint8Array): PmgrDevice[] {
  if (value.length % PMGR_DEVICE_SIZE !== 0) {
    throw invalid(
      value.length - (value.length % PMGR_DEVICE_SIZE),
      'truncated',
      `pmgr devices is ${value.length} bytes, not a multiple of ${PMGR_DEVICE_SIZE}`,
    );
  }
  const view = viewOf(value);
  const count = value.length / PMGR_DEVICE_SIZE;
  const eightBit = count >= 2 && value[3] !== value[PMGR_DEVICE_SIZE + 3];
  return Array.from({ length: count }, (_, i) => {
    const at = i * PMGR_DEVICE_SIZE;
    const nameBytes = value.subarray(at + PMGR_NAME_OFFSET, at + PMGR_DEVICE_SIZE);
    const nul = nameBytes.indexOf(0);
    return {
      flags: value[at] as number,
      id: eightBit ? (value[at + 3] as number) : view.getUint16(at + 26, true),
      parents: [view.getUint16(at + 4, true), view.getUint16(at + 6, true)] as const,
      psidx: value[at + 10] as number,
      psreg: value[at + 11] as number,
      name: String.fromCharCode(...(nul < 0 ? nameBytes : nameBytes.subarray(0, nul))),
    };
  });
}
