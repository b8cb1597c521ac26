import type { OwnershipTransferStatus } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A billing ownership transfer (R-SUB-9). Only the SHA-256 of the e-mailed token is stored. */
@Entity('ownership_transfers')
export class OwnershipTransferOrmEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @Column({ name: 'from_user_id', type: 'text' })
  fromUserId!: string;

  @Column({ name: 'to_user_id', type: 'text' })
  toUserId!: string;

  @Column({ name: 'token_hash', type: 'text' })
  tokenHash!: string;

  @Column({ type: 'text' })
  status!: OwnershipTransferStatus;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true })
  confirmedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
