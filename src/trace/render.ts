/**
 * Output: JSON lines (the stable machine format, docs/trace-format.md) and a text rendering for
 * people, one line per record (a crash is a short block).
 */

import { printable } from '../text.js';
import type {
  CrashRecord,
  EventRecord,
  MessageRecord,
  RecordOrigin,
  TraceOutput,
} from './records.js';

/** One JSON line (without newline). Records hold no bigint, so this cannot throw. */
export function toJsonLine(r: TraceOutput): string {
  return JSON.stringify(r);
}

const ARROW = { 'ap->iop': '→', 'iop->ap': '←' } as const;

function when(o: RecordOrigin): string {
  if (o.t !== undefined) return `[${o.t.toFixed(6).padStart(12)}]`;
  if (o.time !== undefined) return `[${o.time}]`;
  return `L${o.line}`;
}

function who(o: RecordOrigin): string {
  return o.device ?? o.coproc ?? '-';
}

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function renderMessage(m: MessageRecord): string {
  const stamp =
    m.index !== undefined
      ? `#${String(m.index).padStart(3, '0')}@${(m.timestamp ?? '').replace(/^0x/, '')}`
      : when(m);
  const arrow = m.dir === null ? '·' : ARROW[m.dir];
  let s = `${stamp} ${arrow} ${who(m)} ${m.endpoint}(${hex2(m.ep)}) ${m.msg} ${m.summary}`;
  if (m.note !== undefined) s += `  # ${m.note}`;
  if (m.notes !== undefined) s += `  [${m.notes.map((n) => n.code).join(', ')}]`;
  return s;
}

function renderEvent(e: EventRecord): string {
  const head = `${when(e)} ${who(e)}`;
  switch (e.event) {
    case 'firmware-too-new':
      return `${head} firmware minimum protocol version ${e.value} is too new for Linux`;
    case 'firmware-too-old':
      return `${head} firmware maximum protocol version ${e.value} is too old for Linux`;
    case 'unknown-system-endpoint':
      return `${head} unknown system endpoint ${hex2(e.endpoint ?? 0)}`;
    case 'undiscovered-endpoint':
      return `${head} message to undiscovered endpoint ${hex2(e.endpoint ?? 0)}`;
    case 'smc-initialized':
      return `${head} SMC initialized: ${e.keyCount} keys, ${e.firstKey?.fourcc} (${e.firstKey?.u32})..${e.lastKey?.fourcc} (${e.lastKey?.u32})`;
    case 'rtkit-line':
      return `${head} RTKit: ${e.text ?? ''}`;
  }
}

function renderCrash(c: CrashRecord): string {
  const out: string[] = [];
  const dev = c.device ?? c.coproc ?? 'co-processor';
  const drv = c.driver !== undefined ? ` (${c.driver})` : '';
  out.push(`${when(c)} === ${dev}${drv} crashed (lines ${c.line}-${c.endLine}) ===`);
  const v = c.version;
  if (v !== undefined) {
    out.push(
      v.rtkitVersion !== undefined
        ? `  version     RTKit ${v.rtkitVersion} ${v.build}, client ${v.client}`
        : `  version     ${v.string}`,
    );
  }
  if (c.crashTime !== undefined) {
    out.push(`  crash time  ${c.crashTimeDecimal} (${c.crashTime})`);
  }
  const x = c.exception;
  if (x !== undefined) {
    const esr =
      x.esr !== undefined
        ? `ESR ${x.esr} (EC ${x.esrEc}${x.esrClassName !== undefined ? ` ${x.esrClassName}` : ''}, IL ${x.esrIl}, ISS ${x.esrIss})`
        : 'ESR ?';
    out.push(`  exception   from ${x.el ?? '?'}: ${esr}`);
    const regs = [
      ['PC', x.pc],
      ['PSR', x.psr],
      ['FAR', x.far],
      ['SP', x.sp],
    ]
      .filter(([, val]) => val !== undefined)
      .map(([k, val]) => `${k} ${val}`);
    if (regs.length > 0) out.push(`              ${regs.join('  ')}`);
    const xs = Object.entries(x.regs);
    for (let i = 0; i < xs.length; i += 4) {
      out.push(
        `              ${xs
          .slice(i, i + 4)
          .map(([k, val]) => `${k.padStart(3)} ${val}`)
          .join('  ')}`,
      );
    }
  }
  for (const m of c.messages) out.push(`  message     (id=${m.id}) ${m.text}`);
  for (const mb of c.mailboxes) {
    const hdr = mb.type !== null ? ` (type ${mb.type}, index ${mb.index})` : '';
    out.push(`  mailbox${hdr}: ${mb.entryCount} entr${mb.entryCount === 1 ? 'y' : 'ies'}`);
  }
  for (const n of c.notes) out.push(`  note        ${n}`);
  if (c.truncated) out.push('  (truncated: the dump was larger than the record keeps)');
  // Every line carries text from the log: escape it line by line, keeping the block's newlines.
  return out.map(printable).join('\n');
}

/** One line per record for a person (a crash renders as a block of lines). */
export function renderText(r: TraceOutput): string {
  return r.type === 'crash' ? renderCrash(r) : printable(renderLine(r));
}

function renderLine(r: Exclude<TraceOutput, { type: 'crash' }>): string {
  switch (r.type) {
    case 'message':
      return renderMessage(r);
    case 'syslog':
      return `${r.source === 'm1n1' ? `L${r.line}` : when(r)} ${who(r)} syslog ${r.context}: ${r.message}`;
    case 'init':
      return `${when(r)} ${who(r)} RTKit initializing, protocol version ${r.protocolVersion}`;
    case 'event':
      return renderEvent(r);
    case 'warning':
      return `warning: line ${r.line}: ${r.code}: ${r.message}`;
  }
}
