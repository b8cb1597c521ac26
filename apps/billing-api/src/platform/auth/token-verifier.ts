import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { ROLES, type Principal, type Role } from './principal.js';

export class InvalidTokenError extends Error {}

/** Verifies bearer JWTs: HS256 with a shared secret, or RS/ES keys from a JWKS URL (R-API-2). */
@Injectable()
export class TokenVerifier {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;

  constructor(private readonly config: AppConfig) {
    const { jwtSecret, jwksUrl } = config.auth;
    this.secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : null;
    this.jwks = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : null;
  }

  async verify(token: string): Promise<Principal> {
    const options = {
      ...(this.config.auth.issuer ? { issuer: this.config.auth.issuer } : {}),
      ...(this.config.auth.audience ? { audience: this.config.auth.audience } : {}),
    };
    let payload: JWTPayload;
    try {
      if (this.jwks) payload = (await jwtVerify(token, this.jwks, options)).payload;
      else if (this.secret)
        payload = (await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload;
      else throw new InvalidTokenError('no verification key configured');
    } catch (e) {
      throw new InvalidTokenError(e instanceof Error ? e.message : 'invalid token');
    }
    const {
      sub,
      account_id: accountId,
      role,
    } = payload as JWTPayload & { account_id?: unknown; role?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) throw new InvalidTokenError('claim sub is missing');
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
      throw new InvalidTokenError('claim role is missing or unknown');
    if (accountId !== undefined && accountId !== null && typeof accountId !== 'string')
      throw new InvalidTokenError('claim account_id must be a string');
    if ((role === 'owner' || role === 'member') && !accountId)
      throw new InvalidTokenError('claim account_id is required for owners and members');
    return { userId: sub, accountId: (accountId as string | undefined) ?? null, role: role as Role };
  }
}
