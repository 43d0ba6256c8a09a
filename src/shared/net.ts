/**
 * Which addresses a tenant's webhook may reach.
 *
 * Checked twice: when a rule is saved (`refuseHost`, the URL's host as written) and at send time
 * (`guardedLookup`, every address the name resolves to, right before the socket connects), so a
 * public name that resolves to 10.0.0.1 — or changes its answer after validation — cannot reach
 * inside. No Node imports: only types, so this module stays importable anywhere.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Names that always mean "this machine", a private network or a cloud metadata service. */
const INTERNAL_NAMES =
  /^(localhost|.+\.localhost|.+\.local|.+\.internal|.+\.home\.arpa|metadata|instance-data)$/i;

/** WEBHOOK_ALLOWED_HOSTS: exact hosts, `*.suffix` wildcards, IPs and CIDRs. */
export type AllowList = readonly string[];

/** `[::1]` → `::1`, `Example.COM.` → `example.com`. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(ip)) return null;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr;
}

export function isIpLiteral(host: string): boolean {
  return parse(normalizeHost(host)) !== null;
}

/**
 * True for every address that is not plain public unicast: loopback, RFC 1918 private, link-local
 * (which includes the 169.254.169.254 metadata service), unspecified, carrier-grade NAT (Alibaba's
 * metadata 100.100.100.200), multicast, broadcast, reserved, IPv6 ULA (AWS's fd00:ec2::254), the
 * IPv4-compatible ::/96, NAT64, 6to4 and Teredo (which embed an IPv4 address).
 */
export function isInternalAddress(ip: string): boolean {
  const addr = parse(normalizeHost(ip));
  if (!addr) return false;
  if (addr.kind() === 'ipv6') {
    const parts = (addr as ipaddr.IPv6).parts;
    if (parts.slice(0, 6).every((p) => p === 0)) return true; // ::, ::1 and ::a.b.c.d
  }
  return addr.range() !== 'unicast';
}

export function isAllowed(hostOrIp: string, allow: AllowList): boolean {
  const host = normalizeHost(hostOrIp);
  const addr = parse(host);
  return allow.some((raw) => {
    const entry = normalizeHost(raw);
    if (!entry) return false;
    if (entry.includes('/')) {
      if (!addr) return false;
      try {
        const [range, bits] = ipaddr.parseCIDR(entry);
        return range.kind() === addr.kind() && (addr as ipaddr.IPv4).match(range as ipaddr.IPv4, bits);
      } catch {
        return false;
      }
    }
    const entryAddr = parse(entry);
    if (entryAddr || addr) {
      return (
        !!entryAddr &&
        !!addr &&
        entryAddr.kind() === addr.kind() &&
        entryAddr.toNormalizedString() === addr.toNormalizedString()
      );
    }
    if (entry.startsWith('*.')) return host.endsWith(entry.slice(1));
    return entry === host;
  });
}

/** For a URL's host as written (a name or a literal IP): why it is refused, or null. */
export function refuseHost(host: string, allow: AllowList): string | null {
  const bare = normalizeHost(host);
  if (isAllowed(bare, allow)) return null;
  if (INTERNAL_NAMES.test(bare)) return `host "${bare}" is internal (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  if (isInternalAddress(bare)) {
    return `address ${bare} is loopback, private, link-local or reserved (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  }
  return null;
}

/**
 * For an address a connection is about to use: why it is refused, or null. The host as the URL
 * names it may allow it (`hooks.corp` in the allow list), or the address itself (`10.0.0.0/8`).
 */
export function refuseAddress(hostname: string, address: string, allow: AllowList): string | null {
  if (!isInternalAddress(address)) return null;
  if (isAllowed(hostname, allow) || isAllowed(address, allow)) return null;
  const name = normalizeHost(hostname);
  const what = name === normalizeHost(address) ? `address ${name}` : `${name} resolves to ${address}, which`;
  return `${what} is loopback, private, link-local or reserved (allow it with WEBHOOK_ALLOWED_HOSTS)`;
}

/** Raised from the connection's DNS lookup when a target resolves to an internal address. */
export class InternalAddressError extends Error {
  readonly code = 'EINTERNALADDRESS';
}

export type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for http(s) agents: resolves every address of the name and refuses the connection if
 * any of them is internal and not allowed, so the socket only ever connects to a checked address.
 * `resolve` is `dns.lookup` in the product.
 */
export function guardedLookup(allow: AllowList, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      if (!addresses?.length) {
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      }
      for (const a of addresses) {
        const refused = refuseAddress(hostname, a.address, allow);
        if (refused) return callback(new InternalAddressError(refused), '', 0);
      }
      if ((options as LookupOptions).all) {
        return (callback as (e: null, all: LookupAddress[]) => void)(null, addresses);
      }
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
