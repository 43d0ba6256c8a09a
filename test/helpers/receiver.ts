import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  raw: string;
  at: number;
}

/** A webhook receiver on 127.0.0.1 that records every request; `respond` decides each answer. */
export async function startReceiver(
  respond: (
    r: Received,
    n: number,
  ) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } = () => ({
    status: 200,
  }),
) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep raw */
      }
      const r: Received = { path: req.url ?? '/', headers: req.headers, body, raw, at: Date.now() };
      received.push(r);
      const answer = respond(r, received.length);
      const reply = () =>
        res
          .writeHead(answer.status, { 'Content-Type': 'text/plain', ...answer.headers })
          .end(answer.body ?? '');
      // A slow receiver: the request is recorded on arrival, answered later.
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
