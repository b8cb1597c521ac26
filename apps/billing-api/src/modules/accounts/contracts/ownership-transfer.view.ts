/** A billing ownership transfer as the API shows it (never its token). */
export interface OwnershipTransferView {
  id: string;
  accountId: string;
  fromUserId: string;
  toUserId: string;
  status: 'pending' | 'confirmed' | 'superseded';
  expiresAt: string;
  confirmedAt: string | null;
  createdAt: string;
}
