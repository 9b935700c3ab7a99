package coop.scheduler.domain;

import java.util.Set;

/**
 * The events a member is told of and where ({@code notifyOn} in {@link NotifyEvent}'s words,
 * {@code notifyTo} a {@link NotifyTarget}'s text): a member's default, which applies to the jobs it
 * submits later without a notify of their own. Not governance: a personal setting, stored beside
 * the member, not in the ledger.
 */
public record NotifyChoice(String notifyOn, String notifyTo) {
    public static final NotifyChoice NONE = new NotifyChoice("", "");

    public NotifyChoice {
        notifyOn = notifyOn == null ? "" : notifyOn;
        notifyTo = notifyTo == null ? "" : notifyTo;
    }

    /**
     * The choice with its events in canonical words, if each part meets its rule and this scheduler
     * can deliver to its target; events without a target are refused naming notify_to.
     */
    public NotifyChoice checked(NotifyReach reach) {
        String on = NotifyEvent.canonical("notify", notifyOn);
        String to = notifyTo.strip();
        if (!to.isEmpty()) {
            reach.permit("notify_to", NotifyTarget.parse("notify_to", to));
        }
        if (!NotifyEvent.parse("notify", on).isEmpty() && to.isEmpty()) {
            throw CoopException.invalid("notify_to", "events " + on + " need an address: give an http(s) URL or an "
                    + "email address");
        }
        return new NotifyChoice(on, to);
    }

    /**
     * What a job asked, with this member default filling in what it left out: its events when it
     * gave none, its address when it gave events but no address. Each part is checked as
     * {@link #checked} does; a job told of events with no address here or in the default is
     * refused naming notify_to.
     */
    public JobOptions appliedTo(JobOptions asked, NotifyReach reach) {
        String on = asked.notifyOn().isBlank() ? notifyOn : NotifyEvent.canonical("notify", asked.notifyOn());
        String to = asked.notifyTo().strip();
        Set<NotifyEvent> events = NotifyEvent.parse("notify", on);
        if (!events.isEmpty() && to.isEmpty()) {
            to = notifyTo;
            if (to.isEmpty()) {
                throw CoopException.invalid("notify_to", "events " + on + " need an address: give an http(s) URL or "
                        + "an email address, or set your default with coop member set --notify-to");
            }
        }
        if (!to.isEmpty()) {
            // The default's address too: the operator may have changed what it allows since it was set.
            reach.permit("notify_to", NotifyTarget.parse("notify_to", to));
        }
        return asked.withNotify(on, to);
    }
}
