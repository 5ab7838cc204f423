// The layer rules of docs/architecture.md, checked on the source: the core never imports node:*
// (the viewer runs it in a browser) and imports point down the stack.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  if (!existsSync(join(SRC, dir))) return [];
  return readdirSync(join(SRC, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);
}

const ALLOWED: Record<string, string[]> = {
  protocol: ['protocol', 'errors'],
  syslog: ['syslog', 'errors', 'protocol'],
  crashlog: ['crashlog', 'errors', 'protocol', 'text'],
  trace: ['trace', 'errors', 'protocol', 'crashlog', 'text'],
  mailbox: ['mailbox', 'errors', 'protocol', 'clock'],
  m1n1: ['m1n1', 'errors', 'protocol', 'clock', 'mailbox'],
  // Host and simulator are peers: neither imports the other (STYLE.md); src/wiring joins them.
  sim: [
    'sim',
    'errors',
    'protocol',
    'crashlog',
    'syslog',
    'trace',
    'mailbox',
    'clock',
    'text',
    'm1n1',
  ],
  host: ['host', 'errors', 'protocol', 'crashlog', 'syslog', 'trace', 'mailbox', 'clock', 'text'],
  drivers: ['drivers', 'host', 'errors', 'protocol', 'mailbox', 'clock'],
  // The one place that joins host and simulator (for tests and tools).
  wiring: ['wiring', 'host', 'sim', 'errors', 'protocol', 'mailbox', 'clock', 'm1n1', 'drivers'],
  // Node byte links (TCP, serial devices, ptys) for the m1n1 proxy: the one layer built on node:*.
  transports: ['transports', 'm1n1', 'errors', 'clock'],
  // The live feed and the viewer's server; the browser app itself lives in web/.
  // The scripted demo session: a simulated SoC driven by the host library, published as a feed.
  demo: [
    'demo',
    'wiring',
    'host',
    'sim',
    'drivers',
    'viewer',
    'protocol',
    'crashlog',
    'syslog',
    'trace',
    'errors',
    'clock',
    'mailbox',
    'text',
  ],
  viewer: ['viewer', 'protocol', 'trace', 'crashlog', 'syslog', 'errors', 'text'],
};
const NODE_ONLY = new Set(['trace/node-stream.ts', 'viewer/server.ts']);
const NODE_LAYERS = new Set(['transports']);

describe('layering', () => {
  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`${layer}/ imports only ${allowed.join(', ')} and no node:*`, () => {
      for (const file of sources(layer)) {
        for (const spec of imports(file)) {
          if (spec.startsWith('node:')) {
            expect(NODE_ONLY.has(file) || NODE_LAYERS.has(layer), `${file} imports ${spec}`).toBe(
              true,
            );
            continue;
          }
          if (!spec.startsWith('.')) continue;
          const target = join(layer, file.slice(layer.length + 1), '..', spec).split('/')[0]!;
          const top = target.replace(/\.js$/, '');
          expect(allowed, `${file} imports ${spec}`).toContain(top);
        }
      }
    });
  }
});
