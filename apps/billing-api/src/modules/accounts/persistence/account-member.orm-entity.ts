import { Column, Entity, PrimaryColumn } from 'typeorm';

export type MemberRole = 'owner' | 'member';

@Entity('account_members')
export class AccountMemberOrmEntity {
  @PrimaryColumn({ name: 'account_id', type: 'uuid' })
  accountId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ type: 'text' })
  email!: string;

  @Column({ type: 'text' })
  role!: MemberRole;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
