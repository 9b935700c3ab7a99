package coop.scheduler.domain;

/**
 * The kinds of proposal, each with the delegation topic it falls under and the support it
 * needs: ordinary (more than the constitution's ordinary fraction of yes over yes and no),
 * special (at least two thirds by default) or constitutional (at least three quarters). A
 * share-budget has no yes or no: it needs only the quorum, and its outcome is the
 * aggregation of the members' splits.
 */
public enum ProposalKind {
    SHARES("shares", Topic.SHARES, Threshold.ORDINARY),
    SHARE_BUDGET("share-budget", Topic.SHARES, Threshold.QUORUM_ONLY),
    PARAM("param", Topic.PARAMS, Threshold.SPECIAL),
    ADMIT("admit", Topic.MEMBERSHIP, Threshold.SPECIAL),
    REMOVE("remove", Topic.MEMBERSHIP, Threshold.SPECIAL),
    ACCOUNT("account", Topic.SHARES, Threshold.ORDINARY),
    AMEND("amend", Topic.PARAMS, Threshold.CONSTITUTIONAL);

    /** How much support a kind needs. */
    public enum Threshold { ORDINARY, SPECIAL, CONSTITUTIONAL, QUORUM_ONLY }

    private final String label;
    private final Topic topic;
    private final Threshold threshold;

    ProposalKind(String label, Topic topic, Threshold threshold) {
        this.label = label;
        this.topic = topic;
        this.threshold = threshold;
    }

    public String label() {
        return label;
    }

    public Topic topic() {
        return topic;
    }

    public Threshold threshold() {
        return threshold;
    }

    public static ProposalKind parse(String field, String text) {
        for (ProposalKind k : values()) {
            if (k.label.equals(text)) {
                return k;
            }
        }
        throw CoopException.invalid(field, "unknown kind '" + text
                + "' (kinds: shares, share-budget, param, admit, remove, account, amend)");
    }
}
