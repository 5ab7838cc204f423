/**
 * Tiny DOM helpers. Every text from an input (summaries, syslog lines, device names) goes in as
 * a text node, never as markup: a log line cannot inject HTML into the page.
 */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === false) continue;
      if (k === 'class') el.className = String(v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`missing #${id}`);
  return el as T;
}

/** A two-column table of label/value pairs. */
export function factTable(
  rows: readonly (readonly [string, string | Node])[],
  cls = 'facts',
): HTMLTableElement {
  const t = h('table', { class: cls });
  for (const [k, v] of rows) t.append(h('tr', null, h('th', null, k), h('td', null, v)));
  return t;
}

export function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Time column text: trace seconds, else the wall-clock stamp, else the input line. */
export function timeText(o: {
  t?: number | undefined;
  time?: string | undefined;
  line?: number | undefined;
  index?: number | undefined;
  timestamp?: string | undefined;
}): string {
  if (o.index !== undefined) {
    return `#${String(o.index).padStart(3, '0')}@${(o.timestamp ?? '').replace(/^0x/, '')}`;
  }
  if (o.t !== undefined) return o.t.toFixed(6);
  if (o.time !== undefined) return o.time;
  if (o.line !== undefined) return `L${o.line}`;
  return '';
}
