/**
 * Filter lists built from what the input holds: co-processors (lanes), endpoints and message
 * kinds, each a checkbox with its count. Unticking hides the matching arrows; new values that
 * appear later (a live session) start ticked.
 */

import { h } from './dom.js';
import { laneLabel } from './sequence.js';
import type { ViewerStore } from './store.js';

type Group = 'lanes' | 'eps' | 'kinds';

export class FilterPanel {
  private builtFor = -1;
  private readonly counts = new Map<string, HTMLSpanElement>();

  constructor(
    private readonly el: { lanes: HTMLElement; eps: HTMLElement; kinds: HTMLElement },
    private readonly store: ViewerStore,
    private readonly changed: () => void,
  ) {}

  refresh(): void {
    if (this.builtFor !== this.store.keysVersion) {
      this.builtFor = this.store.keysVersion;
      this.build();
    } else this.updateCounts();
  }

  private build(): void {
    const s = this.store;
    this.counts.clear();
    this.fill(
      'lanes',
      s.lanes.map((l) => ({
        value: l.key,
        label: laneLabel(l.key, l.coproc) + (l.device !== undefined ? ` ${l.device}` : ''),
        count: l.messages,
      })),
    );
    this.fill(
      'eps',
      [...s.epCounts.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([ep, count]) => ({ value: String(ep), label: s.endpointLabel(ep), count })),
    );
    this.fill(
      'kinds',
      [...s.kindCounts.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([kind, count]) => ({ value: kind, label: kind, count })),
    );
  }

  private fill(group: Group, items: { value: string; label: string; count: number }[]): void {
    const hidden = this.hiddenStrings(group);
    const box = this.el[group];
    const rows = items.map((it) => {
      const input = h('input', {
        type: 'checkbox',
        'data-group': group,
        value: it.value,
        checked: !hidden.has(it.value),
      });
      input.addEventListener('change', () => this.apply(group));
      const count = h('span', { class: 'count' }, String(it.count));
      this.counts.set(`${group}\n${it.value}`, count);
      return h('label', { class: 'chk' }, input, h('span', { class: 'name' }, it.label), count);
    });
    const all = h('button', { type: 'button', class: 'mini' }, 'all');
    const none = h('button', { type: 'button', class: 'mini' }, 'none');
    all.addEventListener('click', () => this.setAll(group, true));
    none.addEventListener('click', () => this.setAll(group, false));
    box.replaceChildren(
      ...(rows.length > 0
        ? [h('div', { class: 'minis' }, all, none), ...rows]
        : [h('p', { class: 'hint' }, '—')]),
    );
  }

  private updateCounts(): void {
    const s = this.store;
    for (const l of s.lanes) this.setCount('lanes', l.key, l.messages);
    for (const [ep, n] of s.epCounts) this.setCount('eps', String(ep), n);
    for (const [k, n] of s.kindCounts) this.setCount('kinds', k, n);
  }

  private setCount(group: Group, value: string, n: number): void {
    const el = this.counts.get(`${group}\n${value}`);
    const text = String(n);
    if (el !== undefined && el.textContent !== text) el.textContent = text;
  }

  private hiddenStrings(group: Group): Set<string> {
    const f = this.store.filter;
    return new Set([...(f[group] as ReadonlySet<string | number>)].map(String));
  }

  private setAll(group: Group, on: boolean): void {
    for (const input of this.el[group].querySelectorAll<HTMLInputElement>('input[type=checkbox]')) {
      input.checked = on;
    }
    this.apply(group);
  }

  private apply(group: Group): void {
    const off: string[] = [];
    for (const input of this.el[group].querySelectorAll<HTMLInputElement>('input[type=checkbox]')) {
      if (!input.checked) off.push(input.value);
    }
    if (group === 'eps') this.store.setFilter({ eps: new Set(off.map(Number)) });
    else this.store.setFilter({ [group]: new Set(off) });
    this.changed();
  }
}
