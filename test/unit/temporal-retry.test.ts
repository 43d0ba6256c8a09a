import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Connection } from '@temporalio/client';
import { backoffWithin, retryWithinDeadline } from '../../src/api/temporal-retry';

test('a backoff never outlasts the time left before the deadline', () => {
  expect(backoffWithin(10_000, 4_000, 1_000)).toBe(4_000);
  expect(backoffWithin(10_000, 4_000, 8_500)).toBe(1_500);
  expect(backoffWithin(10_000, 4_000, 11_000)).toBe(0);
  expect(backoffWithin(Infinity, 4_000, 11_000)).toBe(4_000);
});

/** A gRPC endpoint that answers every call UNAVAILABLE at once, as a frontend does while history restarts. */
async function unavailableFrontend() {
  let calls = 0;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    calls++;
    // A trailers-only gRPC answer: status 14 (UNAVAILABLE).
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': '14',
        'grpc-message': 'shard unavailable',
      },
      { endStream: true },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('a call that keeps failing UNAVAILABLE is retried, and fails by its deadline', async () => {
  const frontend = await unavailableFrontend();
  const conn = Connection.lazy({ address: frontend.address, interceptors: [retryWithinDeadline()] });
  try {
    const deadline = Date.now() + 2_000;
    const err = await conn
      .withDeadline(deadline, () => conn.workflowService.getSystemInfo({}))
      .then(
        () => ({ code: 0 }),
        (e: unknown) => e as { code?: number },
      );
    const ended = Date.now();
    expect([4, 14]).toContain(err.code); // DEADLINE_EXCEEDED or the last UNAVAILABLE
    expect(frontend.calls()).toBeGreaterThan(3); // retried, with backoff
    // The SDK's own backoff (1.7× from 100 ms, ±20 %) would make its next attempt 0.6–2.0 s after this
    // deadline (the 6th, at 3.3 s ±20 %); half a second leaves room for a busy CI machine.
    expect(ended - deadline).toBeLessThan(500);
  } finally {
    await conn.close();
    await frontend.close();
  }
});
