package coop.scheduler.domain;

import java.util.Locale;

/** What a member may do: vote and propose, submit jobs to its accounts, or enroll and control nodes. */
public enum Role {
    MEMBER, RESEARCHER, OPERATOR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws CoopException naming {@code field} when the text names no role */
    public static Role parse(String field, String text) {
        for (Role r : values()) {
            if (r.label().equals(text)) {
                return r;
            }
        }
        throw CoopException.invalid(field, "unknown role '" + text + "' (roles: member, researcher, operator)");
    }
}
