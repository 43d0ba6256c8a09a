/** Address classification and the allow list that decide which webhook targets are reachable. */
import dns, { type LookupAddress } from 'node:dns';
import {
  InternalAddressError,
  guardedLookup,
  isAllowed,
  isInternalAddress,
  normalizeHost,
  refuseAddress,
  refuseHost,
  type Resolver,
} from '../../src/shared/net';

describe('isInternalAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback range'],
    ['10.1.2.3', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.0.1', 'RFC 1918'],
    ['169.254.169.254', 'link-local / cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['100.100.100.200', 'carrier-grade NAT (Alibaba metadata)'],
    ['192.0.0.192', 'IETF reserved (Oracle metadata)'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fd00:ec2::254', 'IPv6 ULA (AWS metadata)'],
    ['fc00::1', 'IPv6 ULA'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata'],
    ['::7f00:1', 'IPv4-compatible loopback'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata address'],
    ['2002:a9fe:a9fe::1', '6to4 embedding 169.254.169.254'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['[::1]', 'bracketed as in a URL'],
  ])('%s is internal (%s)', (ip) => {
    expect(isInternalAddress(ip)).toBe(true);
  });

  test.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '11.0.0.1', '2606:4700::1111', '2a00:1450:4001::1'])(
    '%s is public',
    (ip) => {
      expect(isInternalAddress(ip)).toBe(false);
    },
  );

  test('a name is not an address', () => {
    expect(isInternalAddress('example.com')).toBe(false);
  });
});

describe('refuseHost (the URL as written, when a rule is saved)', () => {
  test.each([
    'localhost',
    'LOCALHOST.',
    'app.localhost',
    'metadata.google.internal',
    'printer.local',
    'router.home.arpa',
    'metadata',
    '127.0.0.1',
    '[::1]',
    '10.0.0.1',
    '169.254.169.254',
    '[::ffff:169.254.169.254]',
  ])('%s is refused', (host) => {
    expect(refuseHost(host, [])).toMatch(/WEBHOOK_ALLOWED_HOSTS/);
  });

  test('the WHATWG URL parser normalises odd IPv4 spellings before the check', () => {
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1/', 'http://017700000001/']) {
      expect(refuseHost(new URL(url).hostname, [])).not.toBeNull();
    }
  });

  test('public names and addresses pass', () => {
    expect(refuseHost('hooks.example.com', [])).toBeNull();
    expect(refuseHost('93.184.216.34', [])).toBeNull();
    expect(refuseHost('[2606:4700::1111]', [])).toBeNull();
  });

  test('the allow list opens exactly what it names', () => {
    expect(refuseHost('localhost', ['localhost'])).toBeNull();
    expect(refuseHost('127.0.0.1', ['127.0.0.1'])).toBeNull();
    expect(refuseHost('10.9.8.7', ['10.0.0.0/8'])).toBeNull();
    expect(refuseHost('[::1]', ['::1'])).toBeNull();
    expect(refuseHost('hooks.corp.internal', ['*.corp.internal'])).toBeNull();
    expect(refuseHost('127.0.0.2', ['127.0.0.1'])).not.toBeNull();
    expect(refuseHost('11.0.0.1', ['10.0.0.0/8'])).toBeNull(); // public anyway
    expect(refuseHost('192.168.1.1', ['10.0.0.0/8'])).not.toBeNull();
    expect(refuseHost('corp.internal', ['*.corp.internal'])).not.toBeNull();
  });
});

describe('isAllowed', () => {
  test('entries are normalised and compared by kind', () => {
    expect(isAllowed('LocalHost.', [' localhost '])).toBe(true);
    expect(isAllowed('::ffff:10.0.0.5', ['10.0.0.0/24'])).toBe(true);
    expect(isAllowed('0:0:0:0:0:0:0:1', ['::1'])).toBe(true);
    expect(isAllowed('fd00::5', ['fd00::/8'])).toBe(true);
    expect(isAllowed('10.0.0.5', ['fd00::/8'])).toBe(false);
    expect(isAllowed('127.0.0.1', ['localhost'])).toBe(false);
    expect(isAllowed('localhost', ['127.0.0.1'])).toBe(false);
  });

  test('malformed entries allow nothing', () => {
    expect(isAllowed('10.0.0.1', ['10.0.0.0/99', 'not a cidr/8', '', '*'])).toBe(false);
  });
});

describe('refuseAddress (what a connection is about to use)', () => {
  test('names the host and the address it resolved to', () => {
    expect(refuseAddress('hooks.example.com', '10.1.1.1', [])).toMatch(
      /^hooks\.example\.com resolves to 10\.1\.1\.1, which is/,
    );
    expect(refuseAddress('127.0.0.1', '127.0.0.1', [])).toMatch(/^address 127\.0\.0\.1 is/);
  });

  test('allowed by the host name or by the address', () => {
    expect(refuseAddress('hooks.corp', '10.1.1.1', ['hooks.corp'])).toBeNull();
    expect(refuseAddress('hooks.example.com', '10.1.1.1', ['10.0.0.0/8'])).toBeNull();
    expect(refuseAddress('hooks.example.com', '93.184.216.34', [])).toBeNull();
  });
});

describe('guardedLookup (the agents’ DNS step, right before connecting)', () => {
  const fake =
    (answers: Record<string, LookupAddress[]>): Resolver =>
    (host, _options, cb) =>
      answers[host]
        ? cb(null, answers[host])
        : cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);

  function lookup(fn: ReturnType<typeof guardedLookup>, host: string, all: boolean) {
    return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) =>
      fn(host, { all }, (err, address, family) => resolve({ err, address, family })),
    );
  }

  const answers = {
    'public.example.com': [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ],
    'private.example.com': [{ address: '10.0.0.7', family: 4 }],
    'mixed.example.com': [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ],
  };

  test('a public answer passes through, as one address or all of them', async () => {
    const fn = guardedLookup([], fake(answers));
    expect(await lookup(fn, 'public.example.com', false)).toEqual({
      err: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect((await lookup(fn, 'public.example.com', true)).address).toEqual(answers['public.example.com']);
  });

  test('a private answer, or any private address among several, is refused', async () => {
    const fn = guardedLookup([], fake(answers));
    for (const host of ['private.example.com', 'mixed.example.com']) {
      const { err } = await lookup(fn, host, true);
      expect(err).toBeInstanceOf(InternalAddressError);
      expect(err?.code).toBe('EINTERNALADDRESS');
      expect(err?.message).toContain(`${host} resolves to`);
    }
  });

  test('the allow list applies to the name and to the resolved address', async () => {
    expect(
      (await lookup(guardedLookup(['private.example.com'], fake(answers)), 'private.example.com', false)).err,
    ).toBeNull();
    expect(
      (await lookup(guardedLookup(['10.0.0.0/8'], fake(answers)), 'private.example.com', false)).err,
    ).toBeNull();
  });

  test('resolver errors pass through untouched', async () => {
    const { err } = await lookup(guardedLookup([], fake(answers)), 'nowhere.example.com', false);
    expect(err?.code).toBe('ENOTFOUND');
  });

  test('with the system resolver, localhost is refused', async () => {
    const { err } = await lookup(guardedLookup([], dns.lookup as unknown as Resolver), 'localhost', true);
    expect(err).toBeInstanceOf(InternalAddressError);
  });
});

test('normalizeHost', () => {
  expect(normalizeHost(' [FD00::1] ')).toBe('fd00::1');
  expect(normalizeHost('Example.COM.')).toBe('example.com');
});
