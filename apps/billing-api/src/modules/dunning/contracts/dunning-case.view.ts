import type { DunningCaseRef } from './dunning.events.js';

/** One step of an open case's timeline (R-DUN-7). Instants as ISO strings on the case's clock. */
export interface DunningStepView {
  id: string;
  dayOffset: number;
  /** What the step does: `retry_payment`, `send_email:<template>`, `suspend`. */
  actions: string[];
  dueAt: string;
  status: 'pending' | 'done' | 'canceled';
  ranAt: string | null;
  retryOutcome: 'succeeded' | 'failed' | null;
}

/** A dunning case with its timeline: the steps done and the dates of the ones to come. */
export interface DunningCaseView extends DunningCaseRef {
  /** `past_due` until the suspend step ran, then `suspended`; `closed` with an outcome. */
  stage: 'past_due' | 'suspended' | 'closed';
  outcome: 'paid' | 'voided' | 'uncollectible' | 'subscription_canceled' | null;
  day0: string;
  suspendAt: string;
  suspendedAt: string | null;
  closedAt: string | null;
  /** The Stripe test clock the timeline follows; null on real time. */
  testClockId: string | null;
  /** The last step that ran, null before the first. */
  lastStep: string | null;
  /** The next pending step and when it falls due; null when none is left. */
  nextStep: { id: string; dueAt: string } | null;
  steps: DunningStepView[];
}

/** The dunning part of an account's entitlement verdict (banners, R-SM-4): its open case, in short. */
export interface DunningStage {
  caseId: string;
  stage: 'past_due' | 'suspended';
  lastStep: string | null;
  nextStep: { id: string; dueAt: string } | null;
  day0: string;
  suspendAt: string;
  hostedInvoiceUrl: string | null;
}
