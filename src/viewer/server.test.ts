// The viewer's HTTP server without a browser: static files and their limits, the offline file,
// and the live feed as server-sent events (replay, batching, resume, shutdown).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FeedEvent, FeedHub } from './feed.js';
import { FEED_BATCH_MAX, startViewerServer, type ViewerServer } from './server.js';

let root: string;
let secretDir: string;
const servers: ViewerServer[] = [];

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'rtkit-viewer-test-'));
  root = join(base, 'web');
  secretDir = base;
  await mkdir(root);
  await writeFile(join(root, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(root, 'app.js'), 'export {};');
  await writeFile(join(root, 'app.css'), 'body{}');
  await writeFile(join(root, 'notes.xyz'), 'unknown type');
  await writeFile(join(base, 'secret.txt'), 'SECRET');
});

afterAll(async () => {
  await rm(secretDir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(opts: Parameters<typeof startViewerServer>[0] = {}): Promise<ViewerServer> {
  const s = await startViewerServer({ webRoot: root, ...opts });
  servers.push(s);
  return s;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path exactly as given (fetch would normalise `..`). */
function raw(
  s: ViewerServer,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Raw> {
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

describe('static files', () => {
  it('binds 127.0.0.1 on a free port and serves the app with content types', async () => {
    const s = await serve();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    const index = await raw(s, '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await raw(s, '/app.js')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await raw(s, '/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await raw(s, '/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('never serves anything outside webRoot', async () => {
    const s = await serve();
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/web/../../secret.txt',
      '/..\\secret.txt',
      '/%5c..%5csecret.txt',
      '//etc/passwd',
      '/%00index.html',
      '/notes.xyz',
      '/missing.js',
    ]) {
      const r = await raw(s, p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body, p).not.toContain('SECRET');
    }
    expect((await raw(s, '/%E0%A4%A')).status).toBe(400);
  });

  it('answers only loopback host names (no DNS rebinding) and only GET/HEAD', async () => {
    const s = await serve();
    expect((await raw(s, '/', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    expect((await raw(s, '/', { headers: { Host: `localhost:${s.port}` } })).status).toBe(200);
    const post = await raw(s, '/api/info', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it('says how to build the app when webRoot has none', async () => {
    const s = await serve({ webRoot: join(secretDir, 'nowhere') });
    expect((await raw(s, '/')).status).toBe(404);
  });
});

describe('/api', () => {
  it('info and file', async () => {
    const bytes = new TextEncoder().encode('0 0x00100000000c000b\n');
    const s = await serve({ file: { name: 'my trace é.txt', bytes } });
    const info = JSON.parse((await raw(s, '/api/info')).body);
    expect(info).toMatchObject({
      live: false,
      file: { name: 'my trace é.txt', size: bytes.length },
    });
    const f = await raw(s, '/api/file');
    expect(f.status).toBe(200);
    expect(f.headers['content-type']).toBe('application/octet-stream');
    expect(decodeURIComponent(String(f.headers['x-file-name']))).toBe('my trace é.txt');
    expect(f.body).toBe('0 0x00100000000c000b\n');
    expect((await raw(s, '/api/feed')).status).toBe(404);
    const none = await serve();
    expect((await raw(none, '/api/file')).status).toBe(404);
    expect(JSON.parse((await raw(none, '/api/info')).body)).toMatchObject({
      live: false,
      file: null,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// SSE

interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/** Read an SSE stream; `done` resolves when the server ends it. */
function openFeed(s: ViewerServer, lastEventId?: string) {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let buf = '';
  let waiters: (() => void)[] = [];
  let ended = false;
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  let req: ReturnType<typeof request>;
  const done = new Promise<void>((ok, fail) => {
    req = request(
      {
        host: '127.0.0.1',
        port: s.port,
        path: '/api/feed',
        headers: lastEventId !== undefined ? { 'Last-Event-ID': lastEventId } : {},
      },
      (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const m: SseMessage = { event: 'message', data: '' };
            let isComment = true;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) {
                comments.push(line);
                continue;
              }
              isComment = false;
              const colon = line.indexOf(':');
              const k = line.slice(0, colon);
              const v = line.slice(colon + 1).replace(/^ /, '');
              if (k === 'event') m.event = v;
              else if (k === 'id') m.id = v;
              else if (k === 'data') m.data += v;
            }
            if (!isComment) messages.push(m);
          }
          wake();
        });
        res.on('end', () => {
          ended = true;
          wake();
          ok();
        });
      },
    );
    req.on('error', fail);
    req.end();
  });
  const events = (): FeedEvent[] =>
    messages.filter((m) => m.event === 'message').flatMap((m) => JSON.parse(m.data) as FeedEvent[]);
  return {
    messages,
    comments,
    done,
    events,
    get ended() {
      return ended;
    },
    abort: () => req.destroy(),
    /** Wait (bounded) until `pred` holds. */
    async until(pred: () => boolean, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline || ended) throw new Error('feed: condition not met in time');
        await new Promise<void>((ok) => {
          waiters.push(ok);
          setTimeout(ok, 50);
        });
      }
      waiters = [];
    },
  };
}

function msg(seq: number): FeedEvent {
  return {
    type: 'message',
    t: seq / 1000,
    dir: seq % 2 ? 'iop->ap' : 'ap->iop',
    coproc: 'smc',
    ep: 0x20,
    msg: `0x${seq.toString(16).padStart(16, '0')}`,
    seq,
  };
}

describe('/api/feed', () => {
  it('replays the history, then streams live events in order, batched', async () => {
    const hub = new FeedHub();
    for (let i = 0; i < 10; i++) hub.publish(msg(i));
    const s = await serve({ hub });
    const info = JSON.parse((await raw(s, '/api/info')).body);
    expect(info.live).toBe(true);
    const f = openFeed(s);
    await f.until(() => f.events().length === 10);
    expect(f.messages[0]!.event).toBe('hello');
    const hello = JSON.parse(f.messages[0]!.data);
    expect(hello).toMatchObject({ first: 0, resumed: false });
    // 20,000 events published at once arrive in a handful of SSE messages, in order.
    const before = f.messages.length;
    for (let i = 10; i < 20_010; i++) hub.publish(msg(i));
    hub.publish({ type: 'phase', t: 99, text: 'done' });
    await f.until(() => f.events().length === 20_011);
    const seqs = f.events().flatMap((e) => (e.type === 'message' ? [e.seq] : []));
    expect(seqs).toEqual(Array.from({ length: 20_010 }, (_, i) => i));
    expect(f.messages.length - before).toBeLessThanOrEqual(Math.ceil(20_001 / FEED_BATCH_MAX) + 2);
    expect(f.events().at(-1)).toEqual({ type: 'phase', t: 99, text: 'done' });
    const last = f.messages.at(-1)!.id!;
    expect(last).toBe(`${hello.session}:20011`);
    f.abort();
  });

  it('keeps up with events published over time (10,000 per second for a second)', async () => {
    const hub = new FeedHub();
    const s = await serve({ hub });
    const f = openFeed(s);
    await f.until(() => f.messages.length >= 1);
    let n = 0;
    for (let tick = 0; tick < 50; tick++) {
      for (let i = 0; i < 200; i++) hub.publish(msg(n++));
      await new Promise((ok) => setTimeout(ok, 20));
    }
    await f.until(() => f.events().length === 10_000, 10_000);
    expect(f.events().map((e) => (e as { seq: number }).seq)).toEqual(
      Array.from({ length: 10_000 }, (_, i) => i),
    );
    f.abort();
  });

  it('resumes after Last-Event-ID of the same session; replays all otherwise', async () => {
    const hub = new FeedHub();
    for (let i = 0; i < 5; i++) hub.publish(msg(i));
    const s = await serve({ hub });
    const a = openFeed(s);
    await a.until(() => a.events().length === 5);
    const id = a.messages.at(-1)!.id!;
    a.abort();
    for (let i = 5; i < 8; i++) hub.publish(msg(i));
    const b = openFeed(s, id);
    await b.until(() => b.events().length === 3);
    expect(JSON.parse(b.messages[0]!.data)).toMatchObject({ resumed: true });
    expect(b.events().map((e) => (e as { seq: number }).seq)).toEqual([5, 6, 7]);
    b.abort();
    const c = openFeed(s, 'another-session:3');
    await c.until(() => c.events().length === 8);
    expect(JSON.parse(c.messages[0]!.data)).toMatchObject({ resumed: false });
    c.abort();
  });

  it('counts from the hub’s first kept event when the history has dropped some', async () => {
    const hub = new FeedHub({ history: 4 });
    for (let i = 0; i < 10; i++) hub.publish(msg(i));
    const s = await serve({ hub });
    const f = openFeed(s);
    await f.until(() => f.events().length === 4);
    expect(JSON.parse(f.messages[0]!.data)).toMatchObject({ first: 6 });
    expect(f.events().map((e) => (e as { seq: number }).seq)).toEqual([6, 7, 8, 9]);
    expect(f.messages.at(-1)!.id).toMatch(/:10$/);
    f.abort();
  });

  it('drops an event that is not JSON-safe instead of ending the stream', async () => {
    const hub = new FeedHub();
    const s = await serve({ hub });
    const f = openFeed(s);
    await f.until(() => f.messages.length >= 1);
    hub.publish(msg(1));
    hub.publish({ type: 'phase', t: 1, text: 'bad', extra: 1n } as unknown as FeedEvent);
    hub.publish(msg(2));
    await f.until(() => f.events().length === 2);
    expect(f.events().map((e) => e.type)).toEqual(['message', 'message']);
    f.abort();
  });

  it('close() ends open streams promptly and stops listening', async () => {
    const hub = new FeedHub();
    const s = await startViewerServer({ webRoot: root, hub });
    const f = openFeed(s);
    await f.until(() => f.messages.length >= 1);
    const t0 = Date.now();
    await s.close();
    await f.done;
    expect(f.ended).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(raw(s, '/')).rejects.toThrow();
    // A second close is harmless.
    await s.close();
    // The hub no longer feeds the closed stream.
    hub.publish(msg(1));
  });
});

describe('options', () => {
  it('rejects a bad port and reports a port in use', async () => {
    await expect(startViewerServer({ port: 70000, webRoot: root })).rejects.toThrow(/port/);
    const a = await serve();
    await expect(startViewerServer({ port: a.port, webRoot: root })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
