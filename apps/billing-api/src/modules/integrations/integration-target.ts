import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses an integration endpoint must not reach unless the operator allows it
 * (INTEGRATIONS_ALLOW_PRIVATE_TARGETS): an endpoint URL is chosen by an API caller, and the worker would
 * otherwise POST from inside the network (SSRF) to private services, itself, or a cloud metadata service.
 */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['64:ff9b::', 96], // NAT64 of any IPv4 address, private ones included
] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

/** True when the address is private, loopback, link-local or otherwise not a public unicast address. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return FORBIDDEN.check(mapped[1], 'ipv4');
  return FORBIDDEN.check(address, 'ipv6');
}

/**
 * Why a URL may not be delivered to, or null when it may: every address its host resolves to must be
 * public. Checked when an endpoint is added and again before each delivery (a name may resolve
 * elsewhere by then: DNS rebinding).
 */
export async function forbiddenTargetReason(url: string, allowPrivate: boolean): Promise<string | null> {
  if (allowPrivate) return null;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return 'the URL does not parse';
  }
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      // Not resolvable now: nothing to reach yet. Each delivery checks again before it connects.
      return null;
    }
  }
  const bad = addresses.find(isForbiddenAddress);
  return bad === undefined ? null : `${host} resolves to a private, loopback or link-local address`;
}
