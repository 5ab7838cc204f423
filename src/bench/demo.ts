/**
 * The demo's message rate (docs/demo.md "Performance"): target 10,000 decoded messages per
 * second to the terminal and the viewer without falling behind.
 *  - `demo.session`: the whole scripted session at the `fast` pace, every event rendered by the
 *    terminal renderer (colour on) into a null sink and published to a FeedHub whose subscriber
 *    serialises it as the viewer's server does: messages per wall second, end to end, once warm
 *    (median of 3 after 2 warm-up runs); `demo.session.first`: the process's first run, JIT
 *    warm-up included (what a fresh `rtkit demo --fast` sees).
 *  - `demo.render.*`: the terminal renderer alone on the session's recorded events (decode with
 *    history, format, chunk), plain and in colour.
 *  - `demo.hub`: FeedHub publish to one subscriber that serialises each event to JSON.
 * Rates count `message` events only; the other events (≈3%) are rendered too, so the figures are
 * conservative.
 */

import { LiveRenderer } from '../cli/live-render.js';
import type { FeedDetail } from '../demo/publisher.js';
import { runDemo } from '../demo/session.js';
import { type FeedEvent, FeedHub } from '../viewer/feed.js';
import { type BenchResult, bestOf } from './result.js';

const NULL_SINK = (_: string): void => {};

async function sessionRate(): Promise<{ rate: number }> {
  const renderer = new LiveRenderer({ write: NULL_SINK, color: true, flushAfterMs: false });
  const hub = new FeedHub();
  let bytes = 0;
  hub.subscribe((e) => {
    bytes += JSON.stringify(e).length;
  });
  const t0 = performance.now();
  const r = await runDemo({ seed: 1, hub, onEvent: (e, d) => renderer.render(e, d) });
  renderer.flush();
  const s = (performance.now() - t0) / 1000;
  if (!r.ok || bytes === 0)
    throw new Error(`the demo session failed: ${r.failure ?? 'see result'}`);
  return { rate: r.messages / s };
}

export async function run(): Promise<BenchResult[]> {
  const first = await sessionRate();
  const recorded: [FeedEvent, FeedDetail | undefined][] = [];
  await runDemo({ seed: 1, onEvent: (e, d) => recorded.push([e, d]) });
  const messages = recorded.filter(([e]) => e.type === 'message').length;

  const render = (color: boolean): number => {
    const ms = bestOf(() => {
      const r = new LiveRenderer({ write: NULL_SINK, color, flushAfterMs: false });
      for (const [e, d] of recorded) r.render(e, d);
      r.flush();
    });
    return messages / (ms / 1000);
  };
  const hubMs = bestOf(() => {
    const hub = new FeedHub();
    let n = 0;
    hub.subscribe((e) => {
      n += JSON.stringify(e).length;
    });
    for (const [e] of recorded) hub.publish(e);
    if (n === 0) throw new Error('nothing serialised');
  });

  await sessionRate();
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) rates.push((await sessionRate()).rate);
  rates.sort((a, b) => a - b);
  const note = `${messages} messages, ${recorded.length} events (seed 1)`;
  return [
    {
      name: 'demo.session',
      value: rates[1]!,
      unit: 'msg/s',
      note: `${note}; fast pace, rendered + published; median of 3`,
    },
    {
      name: 'demo.session.first',
      value: first.rate,
      unit: 'msg/s',
      note: `${note}; the process's first run (JIT warm-up included)`,
    },
    { name: 'demo.render.plain', value: render(false), unit: 'msg/s', note },
    { name: 'demo.render.color', value: render(true), unit: 'msg/s', note },
    { name: 'demo.hub', value: messages / (hubMs / 1000), unit: 'msg/s', note: `${note}; JSON` },
  ];
}
