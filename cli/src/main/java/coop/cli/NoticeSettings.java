package coop.cli;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.ProposalKind;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Notice periods as {@code coop init --notice} and {@code coop propose amend --notice} take them:
 * {@code KIND=DURATION}, where KIND is a proposal kind or {@code all}, and the duration is written
 * as every duration option takes it, or {@code 0} for none.
 */
final class NoticeSettings {
    private NoticeSettings() {
    }

    /** Seconds by kind label, for the constitution's {@code min_notice}. */
    static Map<String, Long> parse(String option, List<String> settings) {
        Map<String, Long> byKind = new TreeMap<>();
        for (String n : settings) {
            int eq = n.indexOf('=');
            if (eq <= 0) {
                throw new CliException(option + ": '" + n + "' must be KIND=DURATION, for example amend=14d");
            }
            String kind = n.substring(0, eq).strip();
            long seconds = Durations.optionOrZero(option + ": " + kind, n.substring(eq + 1)).toSeconds();
            if (kind.equals("all")) {
                for (ProposalKind k : ProposalKind.values()) {
                    byKind.put(k.label(), seconds);
                }
                continue;
            }
            try {
                byKind.put(ProposalKind.parse(option, kind).label(), seconds);
            } catch (CoopException e) {
                throw new CliException(e.getMessage() + " or all");
            }
        }
        return byKind;
    }
}
