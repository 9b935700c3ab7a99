package coop.scheduler.domain;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where this scheduler's operator lets members' notifications go: URLs only on the hosts listed
 * (a scheduler must not be made to call any address a member names, such as one inside the
 * operator's network), and email only when the operator gave it a mail server.
 */
public record NotifyReach(Set<String> hosts, boolean mail) {
    /** A scheduler that sends members nothing. */
    public static final NotifyReach NONE = new NotifyReach(Set.of(), false);

    public NotifyReach {
        TreeSet<String> lower = new TreeSet<>();
        hosts.forEach(h -> lower.add(h.strip().toLowerCase(Locale.ROOT)));
        hosts = java.util.Collections.unmodifiableSortedSet(lower);
    }

    /** The target, if this scheduler may deliver to it; refused naming the field and what is allowed. */
    public NotifyTarget permit(String field, NotifyTarget target) {
        if (target instanceof NotifyTarget.Url url && !hosts.contains(url.host())) {
            throw CoopException.invalid(field, "this scheduler does not call host '" + url.host() + "': "
                    + (hosts.isEmpty() ? "its operator allowed no host (coop scheduler --notify-hosts)"
                    : "its operator allows " + String.join(", ", hosts)));
        }
        if (target instanceof NotifyTarget.Email && !mail) {
            throw CoopException.invalid(field, "this scheduler sends no mail: its operator gave no --smtp");
        }
        return target;
    }
}
