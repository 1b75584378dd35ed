/**
 * The fake on-prem mail server: an SMTP sink (smtp-server) that accepts any AUTH PLAIN/LOGIN credentials,
 * offers no STARTTLS, and keeps every message in the emulator state, where the control API reads them.
 */
import { SMTPServer } from 'smtp-server';
import { recordMail } from '../cloud-connector/model.ts';
import type { EmulatorCore } from '../core/emulator-core.ts';

const maxMessage = 25 * 1024 * 1024;

/** The Subject header of a raw message, unfolded (encoded words are left as they are). */
export function subjectOf(raw: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0];
  const match = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head);
  return match ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : undefined;
}

export function createSmtpSink(core: EmulatorCore): SMTPServer {
  const server = new SMTPServer({
    name: 'smtp.backend.emulator',
    banner: 'btp-connectivity-emulator SMTP sink',
    logger: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: true,
    size: maxMessage,
    closeTimeout: 500,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
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
