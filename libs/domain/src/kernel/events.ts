/** Fields every domain event carries: a past-tense type, a schema version and when it happened. */
export interface DomainEventBase<TType extends string, TVersion extends number = 1> {
  readonly type: TType;
  readonly version: TVersion;
  /** ISO 8601 instant (UTC) taken from the `now` given to the rule that produced the event. */
  readonly occurredAt: string;
}
