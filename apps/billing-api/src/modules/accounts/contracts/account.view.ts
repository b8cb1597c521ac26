/** What other modules may know of an account (its facade returns this, never the ORM entity). */
export interface AccountView {
  id: string;
  name: string;
  billingEmail: string;
  locale: string;
  timeZone: string;
  stripeCustomerId: string | null;
  billingEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface MemberView {
  userId: string;
  email: string;
  role: 'owner' | 'member';
  createdAt: string;
}
