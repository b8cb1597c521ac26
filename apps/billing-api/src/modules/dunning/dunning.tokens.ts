/** Injection token of the configured dunning policy (DUNNING_POLICY, validated; the R-DUN default). */
export const DUNNING_POLICY = Symbol('DUNNING_POLICY');
