/**
 * The web viewer's HTTP server: the static app (dist/web), an offline file to open at start, and
 * the live feed as server-sent events. The only viewer module that touches `node:*`.
 *
 * ```
 *  GET /                 index.html, app.js, app.css (only files under webRoot)
 *  GET /api/info         { live, file: { name, size } | null, version }
 *  GET /api/file         the file given at start (`rtkit ui FILE`)
 *  GET /api/feed         SSE: history replay, then live; each message = JSON array of FeedEvents
 * ```
 *
 * Security: binds 127.0.0.1 unless told otherwise, and then answers only requests addressed to a
 * loopback name (a page on another site cannot read the feed through DNS rebinding); no path
 * outside webRoot is ever opened.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FeedEvent, FeedHub } from './feed.js';

export interface ViewerServerOptions {
  /** Interface to bind; default `127.0.0.1` (never all interfaces by default). */
  host?: string;
  /** Port; default 0 = any free port. */
  port?: number;
  /** Live feed: GET /api/feed streams its history, then every later event. */
  hub?: FeedHub;
  /** An offline file to open at start (`rtkit ui FILE`), served at GET /api/file. */
  file?: { name: string; bytes: Uint8Array };
  /** The built app (index.html, app.js, app.css); default `dist/web` (see `defaultWebRoot`). */
  webRoot?: string;
}

export interface ViewerServer {
  /** `http://host:port/` */
  readonly url: string;
  readonly port: number;
  /** Ends every feed stream and stops listening. */
  close(): Promise<void>;
}

/** Batch window for live events: one SSE message per window keeps 10,000+ events/s cheap. */
export const FEED_FLUSH_MS = 25;
/** Largest batch in one SSE message (a history replay of 200,000 events is sent in pieces). */
export const FEED_BATCH_MAX = 4096;
/** A client this far behind (events queued, not yet written) is cut off; it can reconnect. */
export const FEED_QUEUE_MAX = 500_000;
/** SSE comment interval, so proxies and browsers keep an idle stream open. */
export const KEEP_ALIVE_MS = 15_000;

const VERSION = '0.1.0';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

// The protocol codecs compile their field getters with `new Function` and fall back to a generic
// loop without it; allowing eval keeps the fast path (and Chromium from logging a violation).
const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * `dist/web` next to the compiled code: `dist/viewer/server.js` → `dist/web`; run from source
 * (vitest), `src/viewer/server.ts` → `dist/web` of the repository. Undefined when neither has
 * an index.html (run `npm run build`).
 */
export function defaultWebRoot(): string | undefined {
  for (const rel of ['../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

export async function startViewerServer(opts: ViewerServerOptions = {}): Promise<ViewerServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`port must be an integer 0..65535, got ${port}`);
  }
  const webRoot = opts.webRoot !== undefined ? resolve(opts.webRoot) : defaultWebRoot();
  const session = randomUUID();
  const streams = new Set<FeedStream>();
  const loopbackOnly = LOOPBACK.has(host);

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A failed read of a static file: answer once, never take the server down.
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (loopbackOnly && !hostAllowed(req.headers.host)) {
      send(res, 403, 'text/plain; charset=utf-8', 'forbidden: not a loopback host name\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'bad request path\n');
      return;
    }
    switch (path) {
      case '/api/info':
        sendJson(res, {
          live: opts.hub !== undefined,
          file: opts.file ? { name: opts.file.name, size: opts.file.bytes.length } : null,
          version: VERSION,
        });
        return;
      case '/api/file':
        if (!opts.file) {
          send(res, 404, 'application/json; charset=utf-8', '{"error":"no file"}\n');
          return;
        }
        res.setHeader('X-File-Name', encodeURIComponent(opts.file.name));
        send(res, 200, 'application/octet-stream', opts.file.bytes, req.method === 'HEAD');
        return;
      case '/api/feed': {
        if (!opts.hub) {
          send(res, 404, 'application/json; charset=utf-8', '{"error":"no live feed"}\n');
          return;
        }
        const s = new FeedStream(req, res, opts.hub, session, () => streams.delete(s));
        streams.add(s);
        return;
      }
      default:
        await serveStatic(res, path, req.method === 'HEAD');
    }
  }

  async function serveStatic(res: ServerResponse, path: string, head: boolean): Promise<void> {
    if (webRoot === undefined) {
      send(
        res,
        503,
        'text/plain; charset=utf-8',
        'the viewer is not built: run `npm run build` (it writes dist/web)\n',
      );
      return;
    }
    const rel = path === '/' ? 'index.html' : path.slice(1);
    if (rel.includes('\0') || rel.startsWith('/') || rel.includes('\\')) {
      send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
      return;
    }
    const full = resolve(webRoot, normalize(rel));
    if (!full.startsWith(webRoot.endsWith(sep) ? webRoot : webRoot + sep)) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    const type = TYPES[extname(full)];
    let st: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      st = await stat(full);
    } catch {
      st = undefined;
    }
    if (type === undefined || st === undefined || !st.isFile()) {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return;
    }
    const body = await readFile(full);
    if (type.startsWith('text/html')) res.setHeader('Content-Security-Policy', CSP);
    send(res, 200, type, body, head);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' || host.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `http://${shown}:${addr.port}/`;
  let closing: Promise<void> | undefined;

  return {
    url,
    port: addr.port,
    close(): Promise<void> {
      closing ??= new Promise<void>((ok) => {
        for (const s of [...streams]) s.end();
        server.close(() => ok());
        // Keep-alive sockets of finished requests would hold close() open.
        server.closeIdleConnections();
        setImmediate(() => server.closeAllConnections());
      });
      return closing;
    },
  };
}

function hostAllowed(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const name = hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : (hostHeader.split(':')[0] ?? '');
  return LOOPBACK.has(name.toLowerCase());
}

function baseHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-cache');
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Uint8Array,
  head = false,
): void {
  baseHeaders(res);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader(
    'Content-Length',
    typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
  );
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

/**
 * One SSE client. Events are queued as the hub publishes them (synchronously, so the queue is
 * the only work done in publish) and written in batches every FEED_FLUSH_MS, respecting the
 * socket's back-pressure. Each batch carries `id: <session>:<n>`, n = events delivered so far
 * counted from the hub's first event, so a reconnecting EventSource resumes where it stopped.
 */
class FeedStream {
  private queue: FeedEvent[] = [];
  private head = 0;
  private next: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private waitingDrain = false;
  private ended = false;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    hub: FeedHub,
    private readonly session: string,
    private readonly onEnd: () => void,
  ) {
    baseHeaders(res);
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setNoDelay(true);

    const first = hub.droppedFromHistory;
    const history = hub.history();
    const resume = resumeFrom(req.headers['last-event-id'], session);
    // A resume point we still hold continues the stream; anything else replays what is kept.
    const skip =
      resume !== undefined && resume >= first ? Math.min(resume - first, history.length) : 0;
    this.queue = skip > 0 ? history.slice(skip) : history;
    this.next = first + skip;
    this.write(
      `retry: 2000\nevent: hello\ndata: ${JSON.stringify({ session, first, resumed: skip > 0 })}\n\n`,
    );
    this.unsubscribe = hub.subscribe((e) => this.push(e));
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    this.keepAlive.unref();
    req.on('close', () => this.end());
    res.on('error', () => this.end());
    if (this.queue.length > 0) this.schedule(0);
  }

  private push(e: FeedEvent): void {
    if (this.ended) return;
    this.queue.push(e);
    if (this.queue.length - this.head > FEED_QUEUE_MAX) {
      this.write(`event: overflow\ndata: ${JSON.stringify({ queued: FEED_QUEUE_MAX })}\n\n`);
      this.end();
      return;
    }
    this.schedule(FEED_FLUSH_MS);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined || this.waitingDrain || this.ended) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }

  private flush(): void {
    while (!this.ended && this.head < this.queue.length) {
      const end = Math.min(this.queue.length, this.head + FEED_BATCH_MAX);
      const batch = this.queue.slice(this.head, end);
      this.head = end;
      this.next += batch.length;
      const ok = this.write(`id: ${this.session}:${this.next}\ndata: ${encodeBatch(batch)}\n\n`);
      if (!ok) {
        this.waitingDrain = true;
        this.res.once('drain', () => {
          this.waitingDrain = false;
          this.flush();
        });
        break;
      }
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 65536) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private write(text: string): boolean {
    if (this.ended) return false;
    return this.res.write(text);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.unsubscribe();
    clearInterval(this.keepAlive);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queue = [];
    this.res.end();
    this.onEnd();
  }
}

function resumeFrom(header: string | string[] | undefined, session: string): number | undefined {
  if (typeof header !== 'string') return undefined;
  const colon = header.lastIndexOf(':');
  if (colon < 0 || header.slice(0, colon) !== session) return undefined;
  const n = Number(header.slice(colon + 1));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The feed contract promises JSON-safe events; one that is not (a bigint slipped in) is dropped
 * rather than ending the stream for every later event.
 */
function encodeBatch(batch: FeedEvent[]): string {
  try {
    return JSON.stringify(batch);
  } catch {
    const parts: string[] = [];
    for (const e of batch) {
      try {
        parts.push(JSON.stringify(e));
      } catch {
        // not JSON-safe: dropped
      }
    }
    return `[${parts.join(',')}]`;
  }
}
