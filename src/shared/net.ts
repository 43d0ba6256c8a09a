/** Which addresses a tenant's webhook may reach. Used when a rule is saved and again at send time. */
import ipaddr from 'ipaddr.js';

/** Hostnames that always mean "this machine" or a cloud metadata service. */
const INTERNAL_NAMES = /^(localhost|.*\.localhost|metadata\.google\.internal|metadata)$/i;

export type AllowList = readonly string[];

function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(ip)) return null;
  const addr = ipaddr.parse(ip);
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
    ? (addr as ipaddr.IPv6).toIPv4Address()
    : addr;
}

/** True for loopback, private, link-local (incl. 169.254.169.254), unspecified, ULA and other non-public ranges. */
export function isInternalAddress(ip: string): boolean {
  const addr = parse(ip);
  if (!addr) return false;
  return addr.range() !== 'unicast';
}

export function isAllowed(hostOrIp: string, allow: AllowList): boolean {
  const host = hostOrIp.toLowerCase().replace(/^\[|\]$/g, '');
  const addr = parse(host);
  return allow.some((entry) => {
    const e = entry.toLowerCase();
    if (e.includes('/') && addr) {
      try {
        const [range, bits] = ipaddr.parseCIDR(e);
        return range.kind() === addr.kind() && addr.match([range, bits] as never);
      } catch {
        return false;
      }
    }
    const entryAddr = parse(e);
    if (entryAddr && addr) return entryAddr.toNormalizedString() === addr.toNormalizedString();
    return e === host;
  });
}

/** For a URL's host as written (a name or a literal IP): why it is refused, or null. */
export function refuseHost(host: string, allow: AllowList): string | null {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (isAllowed(bare, allow)) return null;
  if (INTERNAL_NAMES.test(bare)) return `host "${bare}" is internal (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  if (isInternalAddress(bare)) {
    return `address ${bare} is loopback, private, link-local or reserved (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  }
  return null;
}
