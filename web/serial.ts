/**
 * A real Mac running m1n1, over Web Serial (Chromium's `navigator.serial`): the viewer drives one
 * of its RTKit co-processors with the unchanged host library and shows the traffic live, as the
 * demo's feed shows a simulated one (docs/viewer.md, docs/m1n1-link.md).
 *
 * ```
 *  Connect: requestPort() ─► webSerialLink ─► ProxyClient.connect (m1n1's bootstrap, §7)
 *           ─► readAdtBytes ─► Adt ─► RTKit co-processors under /arm-io ─► the user picks one
 *  Start:   openProxyCoprocessor ─► FeedPublisher.tap(session) ─► FeedEvents ─► publish()
 *           ─► start() (boot, or wake) ─► SMC: SmcClient on its SRAM window, #KEY
 *  Disconnect: SMC client closed ─► shutdown (sleep, unless unticked) ─► session, link, port closed
 * ```
 *
 * The FeedEvents go through the same `LiveIngest` as the server's live feed (web/main.ts), so
 * arrows, state, syslog and crash reports appear exactly as in the demo. Every failure ends as a
 * message in the panel (`#device`), never as an unhandled rejection: each entry point catches.
 */

import { type Clock, systemClock } from '../src/clock.js';
import { FeedPublisher } from '../src/demo/publisher.js';
import { SMC_ENDPOINT, SmcClient, type SmcValue } from '../src/drivers/smc/index.js';
import { isRtkitError } from '../src/errors.js';
import { Adt } from '../src/m1n1/adt.js';
import { ProxyClient } from '../src/m1n1/client.js';
import type { ByteLink } from '../src/m1n1/link.js';
import { Iodev } from '../src/m1n1/opcodes.js';
import { type WebSerialPortLike, webSerialLink } from '../src/m1n1/web-serial-link.js';
import { coprocFromDevice } from '../src/protocol/coproc.js';
import type { FeedEvent } from '../src/viewer/feed.js';
import {
  openProxyCoprocessor,
  type ProxyCoprocessor,
  proxySram,
} from '../src/wiring/proxy-host.js';
import { h } from './dom.js';

/** The part of the Web Serial API we use (not in TypeScript's DOM library). */
export type WebSerialPort = WebSerialPortLike;

interface WebSerial {
  requestPort(options?: object): Promise<WebSerialPort>;
}

export function webSerial(): WebSerial | undefined {
  const nav = navigator as Navigator & { serial?: WebSerial };
  return nav.serial;
}

// ---------------------------------------------------------------------------------------------
// Which co-processors the device tree offers.

/** The default choice: the one co-processor known to work over the link (docs/m1n1-link.md). */
export const DEFAULT_COPROC_PATH = '/arm-io/smc';

export interface CoprocChoice {
  /** Device-tree path, `/arm-io/smc`. */
  readonly path: string;
  readonly name: string;
  readonly compatible: readonly string[];
  /** The decoder profile the node name gives (`smc`, `ans`, …), if any. */
  readonly coproc: string | undefined;
}

/**
 * ASC co-processors carry an ASC-wrapper compatible (`iop,ascwrap-v4` on M1, `-v6` later,
 * `iop-sep,ascwrap-v6`) or, on older SoCs, `iop,<soc>`; their `iop-nub,*` children are the
 * firmware's view of them, not a second co-processor.
 */
function isAscCompatible(c: string): boolean {
  return c.includes('ascwrap') || c.startsWith('iop,');
}

/** The RTKit co-processors among the children of `/arm-io`, the default (`/arm-io/smc`) first. */
export function listCoprocessors(adt: Adt): CoprocChoice[] {
  const armIo = adt.find('/arm-io');
  if (armIo === undefined) return [];
  const out: CoprocChoice[] = [];
  const seen = new Set<string>();
  for (const node of armIo.children) {
    const path = `/arm-io/${node.name}`;
    // Lookups go by the first child of a name (as m1n1's), so a duplicate name is unreachable.
    if (seen.has(node.name) || node.name === '' || node.name.includes('/')) continue;
    seen.add(node.name);
    let compatible: string[];
    try {
      compatible = adt.strings(path, 'compatible');
    } catch {
      continue;
    }
    if (!compatible.some(isAscCompatible)) continue;
    out.push({ path, name: node.name, compatible, coproc: coprocFromDevice(node.name) });
  }
  const i = out.findIndex((c) => c.path === DEFAULT_COPROC_PATH);
  if (i > 0) out.unshift(...out.splice(i, 1));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The panel.

export type DevicePhase = 'idle' | 'connecting' | 'ready' | 'starting' | 'running' | 'stopping';

export interface DeviceHost {
  /** Feed events for the viewer (the same shape as the server's live feed). */
  publish(events: readonly FeedEvent[]): void;
  /** A one-line status for the page header. */
  status(text: string): void;
}

interface Connection {
  readonly link: ByteLink;
  client: ProxyClient | undefined;
  choices: CoprocChoice[];
  cp: ProxyCoprocessor | undefined;
  /** Which co-processor `cp` is, for messages. */
  name: string;
  untap: (() => void) | undefined;
  smc: SmcClient | undefined;
  /** Set once a disconnect (ours or the device's) began: later failures are expected. */
  closing: boolean;
}

/** What the user sees when m1n1 does not answer: the usual causes. */
const NO_M1N1_HINT =
  'Is the Mac running m1n1 in proxy mode, and is this its first USB interface (the proxy, not the console)?';

const SMC_KEY = /^[\x20-\x7e]{4}$/;

export class DevicePanel {
  #phase: DevicePhase = 'idle';
  #conn: Connection | undefined;
  #feed: FeedPublisher | undefined;
  #clock: Clock | undefined;
  #pending: FeedEvent[] = [];
  #flushQueued = false;

  readonly #root: HTMLElement;
  readonly #button: HTMLButtonElement;
  readonly #host: DeviceHost;
  readonly #statusEl = h('p', { class: 'dev-status', role: 'status' });
  readonly #infoEl = h('p', { class: 'dev-info' });
  readonly #select = h('select', { id: 'device-coproc', 'aria-label': 'co-processor' });
  readonly #start = h('button', { type: 'button', id: 'device-start' }, 'Start');
  readonly #stop = h('button', { type: 'button', id: 'device-disconnect' }, 'Disconnect');
  readonly #sleep = h('input', { type: 'checkbox', id: 'device-sleep', checked: true });
  readonly #keyRow = h('div', { class: 'dev-row', hidden: true });
  readonly #keyInput = h('input', {
    type: 'text',
    id: 'device-key',
    maxlength: 4,
    value: '#KEY',
    'aria-label': 'SMC key',
  });
  readonly #keyRead = h('button', { type: 'button', id: 'device-read' }, 'Read key');

  constructor(root: HTMLElement, button: HTMLButtonElement, host: DeviceHost) {
    this.#root = root;
    this.#button = button;
    this.#host = host;
    this.#keyRow.append(this.#keyInput, this.#keyRead);
    root.append(
      h('h2', null, 'm1n1 device'),
      h(
        'div',
        { class: 'dev-body' },
        this.#statusEl,
        this.#infoEl,
        h('label', { class: 'dev-row' }, 'Co-processor ', this.#select),
        h(
          'p',
          { class: 'hint dev-note' },
          'Co-processors behind a DART or SART (DCP, ANS, AOP, GPU…) cannot be driven over the ' +
            'link yet: their buffer requests are refused. The SMC works (its buffers are in its ' +
            'own SRAM). See docs/m1n1-link.md.',
        ),
        h('label', { class: 'dev-row chk' }, this.#sleep, 'put it to sleep on disconnect'),
        h('div', { class: 'dev-row' }, this.#start, this.#stop),
        this.#keyRow,
      ),
    );
    button.addEventListener('click', () => void this.connect());
    this.#start.addEventListener('click', () => void this.start(this.#select.value));
    this.#stop.addEventListener('click', () => void this.disconnect());
    this.#keyRead.addEventListener('click', () => void this.readKey(this.#keyInput.value));
    this.#keyInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') void this.readKey(this.#keyInput.value);
    });
    this.#render();
  }

  get phase(): DevicePhase {
    return this.#phase;
  }

  /** Ask for a port, bootstrap m1n1 on it and list the co-processors. Never rejects. */
  async connect(): Promise<void> {
    if (this.#phase !== 'idle') return;
    this.#root.hidden = false;
    const serial = webSerial();
    if (serial === undefined) {
      this.#say('this browser has no Web Serial (use Chromium)', true);
      return;
    }
    this.#set('connecting', 'choose the m1n1 serial port…');
    let port: WebSerialPort;
    try {
      port = await serial.requestPort();
    } catch (e) {
      const name = (e as { name?: unknown } | undefined)?.name;
      this.#set(
        'idle',
        name === 'NotFoundError' ? 'no serial port chosen' : `cannot ask for a port: ${text(e)}`,
        name !== 'NotFoundError',
      );
      return;
    }
    this.#say('opening the serial port…');
    let link: ByteLink;
    try {
      link = await webSerialLink(port);
    } catch (e) {
      this.#set('idle', `cannot open the serial port: ${text(e)}`, true);
      return;
    }
    const conn: Connection = {
      link,
      client: undefined,
      choices: [],
      cp: undefined,
      name: '',
      untap: undefined,
      smc: undefined,
      closing: false,
    };
    this.#conn = conn;
    link.onClose((error) => {
      if (!conn.closing) void this.#lost(conn, error);
    });
    this.#say(`waiting for m1n1 on ${link.description}…`);
    try {
      conn.client = await ProxyClient.connect(link, { clock: this.#feedClock() });
    } catch (e) {
      if (conn.closing) return;
      await this.#teardown(conn, false);
      this.#set(
        'idle',
        `no m1n1 answers on ${link.description}: ${text(e)}. ${NO_M1N1_HINT}`,
        true,
      );
      return;
    }
    this.#say('reading the device tree…');
    let adt: Adt;
    try {
      adt = Adt.parse(await conn.client.readAdtBytes());
    } catch (e) {
      if (conn.closing) return;
      await this.#teardown(conn, false);
      this.#set('idle', `cannot read the device tree: ${text(e)}`, true);
      return;
    }
    if (conn.closing) return;
    conn.choices = listCoprocessors(adt);
    this.#infoEl.textContent = describeDevice(link, conn.client, adt, conn.choices.length);
    this.#fillChoices(conn.choices);
    this.#phaseEvent(`m1n1 on ${link.description}: ${conn.choices.length} RTKit co-processors`);
    this.#set(
      'ready',
      conn.choices.length > 0
        ? 'connected: pick a co-processor and press Start'
        : 'connected, but the device tree lists no RTKit co-processor under /arm-io',
    );
  }

  /** Attach a session to `path`, tap it into the feed and boot or wake it. Never rejects. */
  async start(path: string): Promise<void> {
    const conn = this.#conn;
    if (this.#phase !== 'ready' || conn?.client === undefined) return;
    const choice = conn.choices.find((c) => c.path === path);
    if (choice === undefined) {
      this.#say('choose a co-processor first', true);
      return;
    }
    const client = conn.client;
    const name = choice.coproc ?? choice.name;
    conn.name = name;
    this.#set('starting', `powering ${name} and attaching to its mailbox…`);
    try {
      const cp = await openProxyCoprocessor(client, {
        path,
        ...(choice.coproc !== undefined ? { coproc: choice.coproc } : {}),
        name,
        clock: this.#feedClock(),
      });
      if (conn.closing) {
        await cp.close().catch(() => {});
        return;
      }
      conn.cp = cp;
      conn.untap = this.#publisher().tap(cp.session, name);
      this.#say(`starting ${name} (boot, or wake if it already runs)…`);
      const how = await cp.start();
      const did = how === 'boot' ? 'booted' : how === 'wake' ? 'woken' : 'restarted';
      // The diagram prefixes the lane's name.
      this.#phaseEvent(`${did} over m1n1`, name);
      if (cp.info.sram !== undefined && choice.coproc === 'smc') {
        this.#say(`${name} ${did}; opening the SMC client…`);
        const handle = await cp.session.openEndpoint(SMC_ENDPOINT);
        conn.smc = await SmcClient.open(handle, { sram: proxySram(client, cp.info.sram) });
        const count = await conn.smc.read('#KEY');
        this.#phaseEvent(`SMC: #KEY = ${showValue(count)} keys`, name);
      }
      if (conn.closing) return;
      this.#set('running', `${name} running (${did})`);
    } catch (e) {
      if (conn.closing) return;
      // Keep the connection: another co-processor, or a second try, may work.
      await this.#detach(conn, this.#sleep.checked);
      if (conn.closing) return;
      this.#set('ready', `${name} did not start: ${text(e)}`, true);
    }
  }

  /** Read one SMC key (typed by the SMC's own key info) and publish the value. Never rejects. */
  async readKey(key: string): Promise<void> {
    const conn = this.#conn;
    const smc = conn?.smc;
    if (this.#phase !== 'running' || smc === undefined) return;
    if (!SMC_KEY.test(key)) {
      this.#say(`an SMC key is four ASCII characters, not ${JSON.stringify(key)}`, true);
      return;
    }
    try {
      const value = await smc.read(key);
      this.#phaseEvent(`SMC: ${key} = ${showValue(value)}`, conn!.name);
      this.#say(`${key} = ${showValue(value)}`);
    } catch (e) {
      if (!conn!.closing) this.#say(`reading ${key} failed: ${text(e)}`, true);
    }
  }

  /**
   * Close the SMC client, put the co-processor to sleep (unless unticked), close the session,
   * the link and the port. Works in every phase but idle; never rejects.
   */
  async disconnect(): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined || conn.closing) return;
    const wasRunning = this.#phase === 'running';
    this.#set('stopping', 'disconnecting…');
    const note = await this.#teardown(conn, wasRunning && this.#sleep.checked);
    this.#set('idle', `disconnected${note}`);
  }

  // -------------------------------------------------------------------------------------------

  /** The link closed without us asking: unplugged, or m1n1 went away. */
  async #lost(conn: Connection, error: Error | undefined): Promise<void> {
    const why = error !== undefined ? `: ${text(error)}` : '';
    this.#set('stopping', `the device went away${why}`, true);
    await this.#teardown(conn, false);
    this.#set('idle', `the device went away${why}`, true);
  }

  /** Everything down; returns a note on what happened to the co-processor. */
  async #teardown(conn: Connection, sleep: boolean): Promise<string> {
    if (conn.closing) return '';
    // From here a link closing under us, or an operation failing, is part of the disconnect.
    conn.closing = true;
    const note = await this.#detach(conn, sleep);
    try {
      if (conn.client !== undefined) await conn.client.close();
      else await conn.link.close();
    } catch {
      // Closing never needs to succeed: the port is released either way.
    }
    if (this.#conn === conn) this.#conn = undefined;
    return note;
  }

  /** Close the SMC client and the session (after a sleep when asked); the link stays open. */
  async #detach(conn: Connection, sleep: boolean): Promise<string> {
    let note = '';
    const smc = conn.smc;
    conn.smc = undefined;
    if (smc !== undefined) await smc.close().catch(() => {});
    const cp = conn.cp;
    conn.cp = undefined;
    if (cp !== undefined) {
      if (sleep && cp.session.state.running) {
        this.#say(`putting ${conn.name} to sleep…`);
        try {
          await cp.session.shutdown();
          note = ` (${conn.name} asleep)`;
        } catch (e) {
          note = ` (${conn.name} did not go to sleep: ${text(e)})`;
        }
      } else if (cp.session.state.running) note = ` (${conn.name} left running)`;
      await cp.close().catch(() => {});
    }
    conn.untap?.();
    conn.untap = undefined;
    return note;
  }

  /** One time base for the feed and the sessions: seconds since the first connection. */
  #feedClock(): Clock {
    if (this.#clock === undefined) {
      const t0 = systemClock.now();
      this.#clock = {
        now: () => systemClock.now() - t0,
        setTimer: (ms, fn) => systemClock.setTimer(ms, fn),
        clearTimer: (handle) => systemClock.clearTimer(handle),
      };
    }
    return this.#clock;
  }

  /** One publisher for the page: message numbers go on across connections. */
  #publisher(): FeedPublisher {
    this.#feed ??= new FeedPublisher({
      clock: this.#feedClock(),
      onEvent: (e) => {
        this.#pending.push(e);
        if (this.#flushQueued) return;
        this.#flushQueued = true;
        // A session emits words in bursts: hand them over once per burst.
        queueMicrotask(() => {
          this.#flushQueued = false;
          const batch = this.#pending;
          this.#pending = [];
          this.#host.publish(batch);
        });
      },
    });
    return this.#feed;
  }

  #phaseEvent(text: string, coproc?: string): void {
    this.#publisher().phase(text, coproc);
  }

  #fillChoices(choices: readonly CoprocChoice[]): void {
    this.#select.replaceChildren(
      ...choices.map((c) =>
        h(
          'option',
          {
            value: c.path,
            selected: c.path === DEFAULT_COPROC_PATH,
            title: `${c.name}: ${c.compatible.join(', ')}`,
          },
          c.path,
        ),
      ),
    );
  }

  #set(phase: DevicePhase, message: string, error = false): void {
    this.#phase = phase;
    this.#say(message, error);
  }

  #say(message: string, error = false): void {
    this.#statusEl.textContent = message;
    this.#statusEl.classList.toggle('error', error);
    this.#host.status(`m1n1 device: ${message}`);
    this.#render();
  }

  #render(): void {
    const p = this.#phase;
    this.#root.dataset['phase'] = p;
    this.#button.disabled = p !== 'idle';
    this.#select.disabled = p !== 'ready';
    this.#start.disabled = p !== 'ready' || this.#select.options.length === 0;
    this.#stop.disabled = p === 'idle' || p === 'stopping' || this.#conn === undefined;
    this.#keyRow.hidden = !(p === 'running' && this.#conn?.smc !== undefined);
  }
}

function text(e: unknown): string {
  if (isRtkitError(e)) return e.message;
  if (e instanceof Error) {
    // DOMException names (NetworkError, NotFoundError) say more than their messages.
    return e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  }
  return String(e);
}

function iodevName(n: number | undefined): string | undefined {
  if (n === undefined) return undefined;
  if (n === Iodev.Uart) return 'UART';
  if (n === Iodev.Dockchannel) return 'dockchannel';
  if (n === Iodev.UsbVuart) return 'USB virtual UART';
  if (n >= Iodev.Usb0 && n <= Iodev.Usb0 + 7) return `USB${n - Iodev.Usb0}`;
  return `iodev ${n}`;
}

function describeDevice(link: ByteLink, client: ProxyClient, adt: Adt, n: number): string {
  let model: string | undefined;
  try {
    model = adt.strings('/', 'compatible')[0];
  } catch {
    // Not every tree names its board.
  }
  return [
    model,
    link.description,
    iodevName(client.iodev),
    client.dataChecksums ? 'data checksums on' : 'data checksums off',
    `${n} co-processor${n === 1 ? '' : 's'}`,
  ]
    .filter((x) => x !== undefined)
    .join(' · ');
}

function showValue(v: SmcValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') {
    const bytes = [...v.bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${v.type.trimEnd()} ${bytes}`;
  }
  return String(v);
}
