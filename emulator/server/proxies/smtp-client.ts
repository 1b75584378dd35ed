/**
 * A small SMTP client over a socket that is already connected (plain, TLS, or the tunnel a Cloud Connector
 * grants), for the Transparent Proxy's mail CRs: the greeting, EHLO, AUTH (PLAIN, LOGIN when the server offers
 * only that, or XOAUTH2), one transaction (MAIL FROM, RCPT TO for each recipient, DATA with dot-stuffing) and
 * QUIT. Every reply is awaited within a timeout; one other than the expected is an {@link SmtpReplyError} that
 * carries it, so the proxy can pass the mail server's own words on to the app.
 */
import type { Socket } from 'node:net';
import type { MailAuth } from '../../services/transparent-proxy/index.ts';

export interface SmtpReply {
  code: number;
  /** The reply's lines without their codes, joined by a space. */
  text: string;
  lines: string[];
}

export class SmtpReplyError extends Error {
  readonly reply?: SmtpReply;
  constructor(message: string, reply?: SmtpReply) {
    super(message);
    this.name = 'SmtpReplyError';
    if (reply) this.reply = reply;
  }
}

export interface SmtpMessage {
  /** The envelope sender ('' for the null sender `<>`). */
  from: string;
  to: string[];
  /** The message as the app sent it (headers and body, CRLF lines), not dot-stuffed. */
  data: Buffer;
}

export interface SmtpSendOptions {
  /** The name this client gives in EHLO. */
  clientName: string;
  auth?: MailAuth;
  /** How long to wait for each reply. */
  replyTimeoutMs: number;
}

const maxReplyBytes = 64 * 1024;

/** Reads SMTP replies (`ddd-…` continuation lines, then `ddd …`) off a socket, one at a time. */
class ReplyReader {
  private buffered = '';
  private lines: string[] = [];
  private readonly replies: SmtpReply[] = [];
  private waiting?: { resolve(reply: SmtpReply): void; reject(err: Error): void };
  private failure?: Error;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk.toString('latin1')));
    socket.on('error', (err) => this.end(err));
    socket.on('close', () => this.end(new SmtpReplyError('the mail server closed the connection')));
  }

  next(timeoutMs: number): Promise<SmtpReply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new SmtpReplyError(`the mail server did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting = {
        resolve: (reply) => (clearTimeout(timer), resolve(reply)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
    });
  }

  private receive(text: string): void {
    this.buffered += text;
    if (this.buffered.length > maxReplyBytes) return this.end(new SmtpReplyError('the mail server sent a reply of more than 64 KiB'));
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline).replace(/\r$/, '');
      this.buffered = this.buffered.slice(newline + 1);
      const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!match) return this.end(new SmtpReplyError(`the mail server sent a line that is not an SMTP reply: ${line.slice(0, 100)}`));
      this.lines.push(match[3]);
      if (match[2] === '-') continue;
      this.deliver({ code: Number(match[1]), text: this.lines.join(' ').trim(), lines: this.lines });
      this.lines = [];
    }
  }

  private deliver(reply: SmtpReply): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting.resolve(reply);
    else this.replies.push(reply);
  }

  private end(err: Error): void {
    this.failure ??= err;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(this.failure);
  }
}

/** Lines starting with a dot get a second one (RFC 5321 4.5.2); the data ends with CRLF. */
export function dotStuff(data: Buffer): Buffer {
  let text = data.toString('latin1').replace(/(^|\n)\./g, '$1..');
  if (!text.endsWith('\r\n')) text += text.endsWith('\n') ? '' : '\r\n';
  return Buffer.from(text, 'latin1');
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The XOAUTH2 initial response: base64(`user=<u>\x01auth=Bearer <token>\x01\x01`). */
export const xoauth2Response = (user: string, token: string): string => b64(`user=${user}\x01auth=Bearer ${token}\x01\x01`);

/** Send one message over `socket` (connected, the server's greeting not read yet); resolves with the reply to DATA. */
export async function sendOverSmtp(socket: Socket, message: SmtpMessage, options: SmtpSendOptions): Promise<SmtpReply> {
  const reader = new ReplyReader(socket);
  const expect = async (stage: string, ...codes: number[]): Promise<SmtpReply> => {
    const reply = await reader.next(options.replyTimeoutMs);
    if (!codes.includes(reply.code)) throw new SmtpReplyError(`${stage}: ${reply.code} ${reply.text}`, reply);
    return reply;
  };
  const command = (line: string): void => void socket.write(`${line}\r\n`);

  await expect('greeting', 220);
  command(`EHLO ${options.clientName}`);
  const ehlo = await expect('EHLO', 250);
  const authLine = ehlo.lines.find((line) => /^AUTH[ =]/i.test(line));
  const mechanisms = authLine ? authLine.slice(5).trim().toUpperCase().split(/\s+/) : [];
  const auth = options.auth;
  if (auth?.method === 'XOAUTH2') {
    command(`AUTH XOAUTH2 ${xoauth2Response(auth.user, auth.token)}`);
    const reply = await reader.next(options.replyTimeoutMs);
    if (reply.code === 334) {
      // The server's error details (base64 JSON); the client answers with an empty line and gets the final 535.
      command('');
      const final = await reader.next(options.replyTimeoutMs);
      throw new SmtpReplyError(`AUTH XOAUTH2: ${final.code} ${final.text}`, final);
    }
    if (reply.code !== 235) throw new SmtpReplyError(`AUTH XOAUTH2: ${reply.code} ${reply.text}`, reply);
  } else if (auth && !mechanisms.includes('PLAIN') && mechanisms.includes('LOGIN')) {
    command('AUTH LOGIN');
    await expect('AUTH LOGIN', 334);
    command(b64(auth.user));
    await expect('AUTH LOGIN', 334);
    command(b64(auth.password));
    await expect('AUTH LOGIN', 235);
  } else if (auth) {
    command(`AUTH PLAIN ${b64(`\0${auth.user}\0${auth.password}`)}`);
    await expect('AUTH PLAIN', 235);
  }
  command(`MAIL FROM:<${message.from}>`);
  await expect('MAIL FROM', 250);
  for (const to of message.to) {
    command(`RCPT TO:<${to}>`);
    await expect(`RCPT TO <${to}>`, 250, 251);
  }
  command('DATA');
  await expect('DATA', 354);
  socket.write(dotStuff(message.data));
  command('.');
  const accepted = await expect('the message', 250);
  command('QUIT');
  socket.end();
  return accepted;
}
