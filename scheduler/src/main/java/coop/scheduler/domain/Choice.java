package coop.scheduler.domain;

/** A member's ballot: abstentions count toward participation, not support. */
public enum Choice { YES, NO, ABSTAIN }
