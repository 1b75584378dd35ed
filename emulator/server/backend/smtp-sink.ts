/**
 * The fake on-prem mail server: an SMTP sink (smtp-server) that accepts any AUTH PLAIN/LOGIN credentials, and
 * AUTH XOAUTH2 with a token the emulator signed (verified; the mail's `user` is the XOAUTH2 user, another token
 * gets Gmail's answer: 334 with the error as base64 JSON, then 535). It offers no STARTTLS, and keeps every
 * message in the emulator state, where the control API reads them.
 * It advertises `SIZE <maxMessageBytes>` and holds to it: a message beyond it is answered 552, nothing of it past
 * the limit is buffered, and nothing is kept.
 */
import { recordMail } from '../../services/backend/state.ts';
import { SMTPServer } from 'smtp-server';
import type { EmulatorCore } from '../../app/emulator-core.ts';

/** The SIZE the sink advertises and enforces unless `smtpMaxMessageBytes` says otherwise: 25 MiB. */
export const defaultSmtpMaxMessageBytes = 25 * 1024 * 1024;

export interface SmtpSinkOptions {
  /** Largest message accepted, in bytes (advertised as SIZE). Default {@link defaultSmtpMaxMessageBytes}. */
  maxMessageBytes?: number;
  /** How long a connection may sit idle between commands before it is closed. Default 60 s. */
  socketTimeoutMs?: number;
}

/** The Subject header of a raw message, unfolded (encoded words are left as they are). */
export function subjectOf(raw: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0];
  const match = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head);
  return match ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : undefined;
}

export function createSmtpSink(core: EmulatorCore, options: SmtpSinkOptions = {}): SMTPServer {
  const maxMessage = options.maxMessageBytes ?? defaultSmtpMaxMessageBytes;
  const server = new SMTPServer({
    name: 'smtp.backend.emulator',
    banner: 'btp-connectivity-emulator SMTP sink',
    logger: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
    authOptional: true,
    allowInsecureAuth: true,
    size: maxMessage,
    // A message over `size` gets 552 whatever onData says; onData stops keeping its chunks once it is over.
    rejectOversized: true,
    socketTimeout: options.socketTimeoutMs ?? 60_000,
    closeTimeout: 500,
    onAuth(auth, _session, callback) {
      if (auth.method !== 'XOAUTH2') return callback(null, { user: auth.username ?? 'anonymous' });
      void core.minter
        .verify(auth.accessToken ?? '')
        .then((verified) =>
          verified.ok
            ? callback(null, { user: auth.username })
            : callback(null, { data: { status: '401', schemes: 'bearer', scope: 'smtp', reason: verified.reason } }),
        );
    },
    onData(stream, session, callback) {
      let chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (stream.sizeExceeded) chunks = [];
        else chunks.push(chunk);
      });
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const error = Object.assign(new Error(`Error: message exceeds fixed maximum message size ${maxMessage}`), { responseCode: 552 });
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        recordMail(core.state.onPrem, {
          receivedAt: new Date(core.clock.now()).toISOString(),
          from,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          subject: subjectOf(raw),
          raw,
        });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  return server;
}
