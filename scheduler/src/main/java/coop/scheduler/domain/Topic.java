package coop.scheduler.domain;

import java.util.Locale;

/** What a delegation covers: a member may trust different people on shares, parameters and membership. */
public enum Topic {
    SHARES, PARAMS, MEMBERSHIP;

    /** The kinds of proposal a delegation on this topic covers. */
    public java.util.List<ProposalKind> kinds() {
        return java.util.Arrays.stream(ProposalKind.values()).filter(k -> k.topic() == this).toList();
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Topic parse(String field, String text) {
        for (Topic t : values()) {
            if (t.label().equals(text)) {
                return t;
            }
        }
        throw CoopException.invalid(field, "unknown topic '" + text + "' (topics: shares, params, membership)");
    }
}
