import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as delay } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ASYNC_COMMIT_CTE, rows } from '../database/row-sql.js';
import { storableJson } from '../database/storable-json.js';
import { Clock } from '../clock/clock.js';
import { AppConfig } from '../config/app-config.js';
import { ApiError } from '../http/api-error.js';

export type BeginOutcome =
  | { kind: 'execute'; lockedAt: Date }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'mismatch' }
  /** An earlier attempt wrote this resource and its answer was lost: answer from the resource. */
  | { kind: 'resolve'; resourceId: string }
  /** An earlier attempt may have executed and cannot be told: never run again (409 until it expires). */
  | { kind: 'in_use' };

interface Row {
  request_hash: string;
  status: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
  resource_id: string | null;
  locked_at: Date;
  expires_at: Date;
}

export interface KeyRef {
  scope: string;
  key: string;
}

/**
 * Idempotency keys in PostgreSQL (R-API-5). The primary key (scope, key) makes "exactly one executes"
 * a database fact: the first insert wins, later requests wait for its stored response or replay it.
 *
 * A key whose request may have executed is never executed again (issue 16). A use case whose effects
 * outlive a failed request (a charge, a refund) links its resource to the key in the statement or
 * transaction that writes it (`linkKeySql`); a retry of such a key whose answer was lost (the request
 * failed after the write, its answer could not be stored, its process died) is answered from the
 * resource (`resolve`, by the route's `IdempotentOutcome`), or 409 `idempotency_key_in_use` while the
 * outcome is not known yet. On such a route an unlinked claim proves nothing was written: it is taken
 * over after the lock timeout. On other routes a claim whose process died cannot be told apart from one
 * that executed: 409 `idempotency_key_in_use` until the key expires. A refusal before executing is
 * forgotten (`release`), a 5xx of an unlinked use case too (its transaction rolled back: `abandon`).
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async begin(
    ref: KeyRef,
    request: { method: string; path: string; hash: string; resolvable: boolean },
  ): Promise<BeginOutcome> {
    const { waitMs, lockTimeoutMs, ttlHours } = this.config.idempotency;
    const deadline = Date.now() + waitMs;
    let pause = 20;
    for (;;) {
      const now = this.clock.now();
      const expires = new Date(now.getTime() + ttlHours * 3_600_000);
      // The key's claim commits without waiting for the WAL flush: lost in a database crash, it is as if
      // the request had not come yet; whatever the handler then does in the database commits durably,
      // which flushes the claim first.
      const inserted = await rows(
        this.db,
        `WITH ${ASYNC_COMMIT_CTE}
         INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, locked_at, created_at, expires_at)
         SELECT $1, $2, $3, $4, $5, 'in_progress', $6, $6, $7 FROM async_commit
         ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
        [ref.scope, ref.key, request.method, request.path, request.hash, now, expires],
      );
      if (inserted.length === 1) return { kind: 'execute', lockedAt: now };

      const found = await this.db.query<Row[]>(
        `SELECT request_hash, status, response_status, response_body, resource_id, locked_at, expires_at
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
        [ref.scope, ref.key],
      );
      const row = found[0];
      if (!row) continue; // deleted between our insert and select: try again
      if (row.expires_at.getTime() <= now.getTime()) {
        await this.db.query(
          `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at <= $3`,
          [ref.scope, ref.key, now],
        );
        continue;
      }
      if (row.request_hash !== request.hash) return { kind: 'mismatch' };
      if (row.status === 'completed') {
        return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
      }
      // A linked key whose attempt ended (`abandon` sets locked_at to the epoch) or whose lock expired.
      const lockExpired = now.getTime() - row.locked_at.getTime() > lockTimeoutMs;
      if (row.resource_id !== null && lockExpired) return { kind: 'resolve', resourceId: row.resource_id };
      if (lockExpired) {
        if (!request.resolvable) return { kind: 'in_use' };
        // Unlinked on a route that links in the statement that writes: nothing was written. The take-over
        // changes `locked_at`, so the earlier attempt, should it still be running, can no longer link.
        const taken = await this.db.query<[unknown[], number]>(
          `UPDATE idempotency_keys SET locked_at = $3
           WHERE scope = $1 AND key = $2 AND status = 'in_progress' AND locked_at = $4
             AND resource_id IS NULL RETURNING key`,
          [ref.scope, ref.key, now, row.locked_at],
        );
        if (taken[1] === 1) return { kind: 'execute', lockedAt: now };
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ApiError(
          'idempotency_request_in_progress',
          'A request with this Idempotency-Key is still being processed; retry later to get its result.',
        );
      }
      await delay(pause);
      pause = Math.min(pause * 2, 200);
    }
  }

  /**
   * Stores the answer and completes the key. A body `jsonb` cannot hold (U+0000, a lone surrogate) is
   * stored with those characters replaced (`storableJson`); returns the body as stored, which is what
   * the client is sent, so that the first answer and its replays are the same.
   */
  async complete(ref: KeyRef, status: number, body: unknown): Promise<unknown> {
    const stored = storableJson(body);
    await rows(
      this.db,
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4::jsonb
       WHERE scope = $1 AND key = $2`,
      [ref.scope, ref.key, status, stored.text],
    );
    return stored.changed ? (JSON.parse(stored.text) as unknown) : body;
  }

  /**
   * Forgets this claim of a key whose request did not execute (refused before executing, or failed
   * without writing what it links), so that a retry runs; only while the claim is the caller's
   * (`lockedAt`) and unlinked.
   */
  async release(ref: KeyRef, lockedAt: Date): Promise<void> {
    await this.db.query(
      `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'
         AND locked_at = $3 AND resource_id IS NULL`,
      [ref.scope, ref.key, lockedAt],
    );
  }

  /**
   * After a request that ended without an answer stored. A linked claim is marked ended (`locked_at` the
   * epoch), so that the next retry is answered from its resource at once rather than after the lock
   * timeout. An unlinked claim is forgotten with `forgetUnlinked` (a 5xx from a use case: its
   * transaction rolled back, and a use case whose effects outlive it links its resource), so that a
   * retry runs; otherwise (the request executed and only its answer was lost) it is left claimed, and
   * is never run again.
   */
  async abandon(ref: KeyRef, lockedAt: Date, options: { forgetUnlinked: boolean }): Promise<void> {
    if (options.forgetUnlinked) {
      await this.db.query(
        `WITH forgotten AS (
           DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'
             AND locked_at = $3 AND resource_id IS NULL)
         UPDATE idempotency_keys SET locked_at = 'epoch'
          WHERE scope = $1 AND key = $2 AND status = 'in_progress' AND locked_at = $3 AND resource_id IS NOT NULL`,
        [ref.scope, ref.key, lockedAt],
      );
      return;
    }
    await this.db.query(
      `UPDATE idempotency_keys SET locked_at = 'epoch'
        WHERE scope = $1 AND key = $2 AND status = 'in_progress' AND locked_at = $3 AND resource_id IS NOT NULL`,
      [ref.scope, ref.key, lockedAt],
    );
  }

  /** Deletes expired keys; returns how many. Run by the maintenance queue. */
  async purgeExpired(limit = 10_000): Promise<number> {
    const result = await this.db.query<[unknown[], number]>(
      `DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`,
      [this.clock.now(), limit],
    );
    return result[1];
  }
}
