// The client address the failed-authentication budget is kept for. Behind a trusted proxy it is
// the address that proxy saw (the last X-Forwarded-For entry, which the proxy appends), not the
// first entry: that one the caller writes, so trusting it would let an attacker take a fresh
// budget on every request, or spend someone else's.
import { isIP } from 'node:net';
import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';

export function clientAddress(request: Pick<FastifyRequest, 'ips' | 'socket'>, trustProxy: boolean): string {
  const socketAddress = request.socket.remoteAddress ?? 'unknown';
  // request.ips (with trustProxy): the socket address, then X-Forwarded-For from the nearest hop out.
  const seenByProxy = trustProxy ? request.ips?.[1] : undefined;
  const address = seenByProxy && isIP(seenByProxy) ? seenByProxy : socketAddress;
  // IPv6 callers usually hold a whole /64: one budget per /64, as @fastify/rate-limit keys them.
  return isIP(address) ? normalizeIP(address) : address;
}
