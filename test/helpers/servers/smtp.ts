/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package) that keeps what it receives, with a
 * small MIME reader so tests can compare the decoded subject, text and HTML parts. It can be stopped
 * and started again on the same port (an outage), refuse recipients with a chosen reply, and require
 * AUTH PLAIN/LOGIN with a user and password.
 */
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { freePort } from '../ports';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  messageId: string;
  text?: string;
  html?: string;
}

export interface SmtpReply {
  code: number;
  message: string;
}

export interface SmtpServerOptions {
  user?: string;
  pass?: string;
  /** A reply to refuse RCPT TO with, per recipient; undefined accepts. */
  rcpt?: (address: string) => SmtpReply | undefined;
  /** The 535 text on a failed login; the test of secrets makes it echo the password it got. */
  authFailureText?: (given: { username?: string; password?: string | null }) => string;
}

export class SmtpTestServer {
  readonly messages: ReceivedMail[] = [];
  rcptAttempts = 0;
  private server?: SMTPServer;

  private constructor(
    readonly port: number,
    private readonly options: SmtpServerOptions,
  ) {}

  static async start(options: SmtpServerOptions = {}): Promise<SmtpTestServer> {
    const s = new SmtpTestServer(await freePort(), options);
    await s.start();
    return s;
  }

  url(user = this.options.user, pass = this.options.pass): string {
    const auth = user ? `${encodeURIComponent(user)}:${encodeURIComponent(pass ?? '')}@` : '';
    return `smtp://${auth}127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    const { user, pass, rcpt, authFailureText } = this.options;
    const server = new SMTPServer({
      logger: false,
      // Plain text on loopback: the test's nodemailer would not trust smtp-server's self-signed cert.
      disabledCommands: user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      allowInsecureAuth: true,
      authOptional: !user,
      disableReverseLookup: true,
      closeTimeout: 1,
      onAuth: (auth, _session, cb) => {
        if (auth.username === user && auth.password === pass) return cb(null, { user: auth.username });
        const err = Object.assign(new Error(authFailureText?.(auth) ?? 'Invalid username or password'), {
          responseCode: 535,
        });
        cb(err);
      },
      onRcptTo: (address: SMTPServerAddress, _session, cb) => {
        this.rcptAttempts++;
        const reply = rcpt?.(address.address);
        if (!reply) return cb();
        cb(Object.assign(new Error(reply.message), { responseCode: reply.code }));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          this.messages.push({
            ...parseMime(raw),
            raw,
            from,
            to: session.envelope.rcptTo.map((r) => r.address),
          });
          cb(null, 'queued');
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  /** Stops listening and drops every open connection, pooled ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

// ---- a minimal MIME reader: enough for nodemailer's text/html/alternative output ----

function unfoldHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function decodeQp(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding = '7bit'): string {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') return decodeQp(body).toString('utf8');
  return body;
}

/** RFC 2047 encoded words: =?UTF-8?Q?...?= and =?UTF-8?B?...?=. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQp(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function split(raw: string): Part {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  return { headers: unfoldHeaders(head), body };
}

function leaves(part: Part): Part[] {
  const type = part.headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith('multipart/') || !boundary) return [part];
  const sections = part.body.split(`--${boundary}`).slice(1);
  return sections
    .filter((s) => !s.startsWith('--'))
    .flatMap((s) => leaves(split(s.replace(/^\r?\n/, '').replace(/\r?\n$/, ''))));
}

function parseMime(raw: string): Omit<ReceivedMail, 'from' | 'to' | 'raw'> {
  // DATA ends with CRLF; it is not part of a single-part body.
  const top = split(raw.replace(/\r?\n$/, ''));
  const out: Omit<ReceivedMail, 'from' | 'to' | 'raw'> = {
    headers: top.headers,
    subject: decodeWords(top.headers.subject ?? ''),
    messageId: top.headers['message-id'] ?? '',
  };
  for (const leaf of leaves(top)) {
    const type = (leaf.headers['content-type'] ?? 'text/plain').toLowerCase();
    const content = decodeBody(leaf.body, leaf.headers['content-transfer-encoding']);
    if (type.startsWith('text/html')) out.html = content;
    else if (type.startsWith('text/plain')) out.text = content;
  }
  return out;
}
