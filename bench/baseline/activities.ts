/** The baseline's one activity: a JSON POST to the receiver, like a webhook without ledger or signing. */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: false });

export function post(url: string, id: string): Promise<void> {
  const body = JSON.stringify({ id });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-bench-id': id,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const baselineActivities = { post };
export type BaselineActivities = typeof baselineActivities;
