package coop.scheduler.governance;

import coop.scheduler.domain.ProposalKind;
import coop.scheduler.ledger.Canonical;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One-line descriptions of proposed changes: the default title of a proposal, and what a log line says. */
final class Descriptions {
    private Descriptions() {
    }

    @SuppressWarnings("unchecked")
    static String describe(ProposalKind kind, Map<String, Object> change) {
        return switch (kind) {
            case SHARES -> "shares " + shares(Fields.intMap(Fields.mapOrEmpty(change.get("shares"), "shares")));
            case SHARE_BUDGET -> "share budget: members submit their splits";
            case PARAM -> "set " + pairs((Map<String, Object>) change.get("params"));
            case AMEND -> "amend " + pairs(change);
            case ADMIT -> "admit " + change.get("name");
            case REMOVE -> "remove " + change.get("name");
            case ACCOUNT -> change.get("action") + " account " + change.get("name");
        };
    }

    static String shares(Map<String, Integer> shares) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(shares).forEach((a, bp) -> sb.append(sb.length() == 0 ? "" : " ").append(a).append('=')
                .append(Rules.percent(bp)));
        return sb.toString();
    }

    private static String pairs(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder();
        if (m != null) {
            new TreeMap<>(m).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=')
                    .append(v instanceof Map || v instanceof List ? Canonical.text(v) : v));
        }
        return sb.toString();
    }
}
