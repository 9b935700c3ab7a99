package coop.scheduler.domain;

/** A proposal is open until it closes, then passed (and enacted) or rejected. */
public enum ProposalState { OPEN, PASSED, REJECTED }
