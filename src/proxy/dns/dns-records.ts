// DNS messages as phonehome records them: the question (name lower-case, no final dot) and each
// answer as one line of text. dns-packet does the parsing; this file only words what it decoded.

import type { Answer, DecodedPacket, Question } from 'dns-packet';
import type { DnsAnswer } from '../../model/flow.js';

/** Record type numbers dns-packet has no name for, which phonehome cares about (RFC 9460). */
const svcbType = 64;
const httpsType = 65;

/** Characters of one answer's text kept in a flow: a TXT record may hold kilobytes. */
const answerTextChars = 1_024;

/** dns-packet's name of a type, in the words of RFC 9460 and RFC 3597 where it has none (`UNKNOWN_65` → `HTTPS`). */
export function typeName(type: string): string {
  const unknown = /^UNKNOWN_(\d+)$/.exec(type);
  if (!unknown) return type;
  const number = Number(unknown[1]);
  if (number === httpsType) return 'HTTPS';
  if (number === svcbType) return 'SVCB';
  return `TYPE${number}`;
}

/** HTTPS and SVCB records: what carries ECH keys and HTTP/3 (QUIC) hints to a device. */
export function isServiceBinding(type: string): boolean {
  const name = typeName(type);
  return name === 'HTTPS' || name === 'SVCB';
}

/** The question a flow is recorded under: the first one (a query with several is all but unknown in practice). */
export function questionOf(message: DecodedPacket): { readonly name: string; readonly asked?: string; readonly type: string; readonly class: string } | undefined {
  const question: Question | undefined = message.questions?.[0];
  if (!question) return undefined;
  const asked = question.name.replace(/\.$/, '');
  const name = recordName(question.name);
  // The letter case as sent is evidence too: base64 in a label needs it.
  return { name, type: typeName(question.type), class: question.class ?? 'IN', ...(asked !== name && asked !== '' ? { asked } : {}) };
}

/** The answer section as text (OPT pseudo-records are not answers). */
export function answersOf(message: DecodedPacket): DnsAnswer[] {
  const answers: DnsAnswer[] = [];
  for (const answer of message.answers ?? []) {
    if (answer.type === 'OPT') continue;
    answers.push({ name: recordName(answer.name), type: typeName(answer.type), ttl: answer.ttl ?? 0, data: bounded(dataText(answer)) });
  }
  return answers;
}

/** A name as recorded: lower-case, without the final dot (the root stays `.`). */
export function recordName(name: string): string {
  if (name === '.' || name === '') return '.';
  return name.toLowerCase().replace(/\.$/, '');
}

function dataText(answer: Answer): string {
  if (answer.type === 'OPT') return '';
  const data: unknown = answer.data;
  switch (answer.type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'DNAME':
    case 'NS':
    case 'PTR':
      return recordName(String(data));
    case 'MX':
      return `${answer.data.preference ?? 0} ${recordName(answer.data.exchange)}`;
    case 'SRV':
      return `${answer.data.priority ?? 0} ${answer.data.weight ?? 0} ${answer.data.port} ${recordName(answer.data.target)}`;
    case 'SOA':
      return `${recordName(answer.data.mname)} ${recordName(answer.data.rname)} ${answer.data.serial ?? 0} ${answer.data.refresh ?? 0} ${answer.data.retry ?? 0} ${answer.data.expire ?? 0} ${answer.data.minimum ?? 0}`;
    case 'TXT': {
      const strings = Array.isArray(answer.data) ? answer.data : [answer.data];
      return strings.map((s) => JSON.stringify(Buffer.isBuffer(s) ? s.toString('latin1') : s)).join(' ');
    }
    case 'CAA':
      return `${answer.data.flags ?? 0} ${answer.data.tag} ${JSON.stringify(answer.data.value)}`;
    default:
      return Buffer.isBuffer(data) ? genericData(data) : JSON.stringify(data, (_key, value: unknown) => (isBufferJson(value) ? Buffer.from(value.data).toString('hex') : value));
  }
}

/** RFC 3597's generic form for data we do not word: `\# LENGTH HEX`. */
function genericData(data: Buffer): string {
  return `\\# ${data.length} ${data.toString('hex')}`;
}

function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}

function bounded(text: string): string {
  return text.length <= answerTextChars ? text : `${text.slice(0, answerTextChars)}…`;
}
