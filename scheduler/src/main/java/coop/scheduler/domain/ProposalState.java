package coop.scheduler.domain;

/**
 * A proposal is open until it closes, then passed (and enacted) or rejected; or it is withdrawn
 * without a decision, as when its proposer is removed while it is open.
 */
public enum ProposalState { OPEN, PASSED, REJECTED, WITHDRAWN }
