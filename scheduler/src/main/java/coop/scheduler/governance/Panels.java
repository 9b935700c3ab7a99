package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.governance.Governance.Panel;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The review panels of jobs that need one: drawn by lot from the members with a vote other than
 * the submitter, its account-mates and the operators of the nodes that could run the job; seeded
 * by the scheduler's next {@link Beacon} reveal and the ledger head (ledgers from before the
 * beacon: by the head alone); decided by a majority of the drawn who are still members.
 */
final class Panels {
    private final Cooperative coop;
    private final Map<Long, Panel> panels = new HashMap<>();
    /** Jobs a member reported whose panel is still to be drawn, with the member who reported each. */
    private final Map<Long, String> reported = new HashMap<>();
    /** The scheduler's beacon chain as the ledger has it; null before its first beacon entry. */
    private Beacon beacon;

    Panels(Cooperative coop) {
        this.coop = coop;
    }

    Panel get(long job) {
        return panels.get(job);
    }

    /** The panels, the reports awaiting a draw and the beacon as a canonical map ({@link Image}). */
    SortedMap<String, Object> image() {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("panels", Image.list(new TreeMap<>(panels).values(), Image::panel));
        SortedMap<String, Object> r = new TreeMap<>();
        reported.forEach((job, by) -> r.put(Long.toString(job), by));
        o.put("reported", r);
        o.put("beacon", Image.beacon(beacon));
        return o;
    }

    /** Fills empty panels from their {@link #image()}. */
    void restore(Map<String, Object> o) {
        Image.list(o, "panels", Image::panel).forEach(p -> panels.put(p.job(), p));
        Fields.map(o, "reported").forEach((job, by) -> reported.put(Long.parseLong(job), (String) by));
        beacon = Image.beacon(o.get("beacon") == null ? null : Fields.map(o, "beacon"));
    }

    /** @throws CoopException FAILED_PRECONDITION when no other member could review the job */
    List<Event> open(long job, String submitter, int gpus, String purpose, String seedHex) {
        List<String> eligible = new ArrayList<>(coop.voters());
        eligible.remove(submitter);
        if (eligible.isEmpty()) {
            throw CoopException.precondition("this job needs review, and no member other than its submitter can "
                    + "review it");
        }
        if (panels.containsKey(job)) {
            throw CoopException.precondition("job " + job + " already has a review panel");
        }
        long k = coop.policy().params().panelSize();
        List<String> drawn = Lottery.draw(HexFormat.of().parseHex(seedHex), eligible, (int) k);
        panels.put(job, new Panel(job, submitter, drawn, new LinkedHashMap<>(), new LinkedHashMap<>(), ""));
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("job", job);
        body.put("member", submitter);
        body.put("gpus", (long) gpus);
        body.put("purpose", purpose == null ? "" : purpose);
        body.put("seed", seedHex);
        body.put("eligible", eligible);
        body.put("k", k);
        body.put("drawn", drawn);
        return List.of(Event.of(EventType.PANEL, body));
    }

    Beacon beacon() {
        return beacon;
    }

    /**
     * The scheduler commits to a new beacon chain. Only when there is none or the last is used
     * up: a scheduler free to swap chains could try secrets until a coming panel suits it.
     */
    List<Event> beacon(String anchor, long length) {
        Beacon.hex32("anchor", anchor);
        if (length < 1 || length > Beacon.MAX_LENGTH) {
            throw CoopException.invalid("length", "a beacon chain must be 1 to " + Beacon.MAX_LENGTH
                    + " reveals long, got " + length);
        }
        if (beacon != null && !beacon.spent()) {
            throw CoopException.precondition("the beacon chain committed before has " + (beacon.length()
                    - beacon.used()) + " reveals left; a new beacon may be committed only once it is used up");
        }
        beacon = new Beacon(anchor, length, 0, anchor);
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("anchor", anchor);
        body.put("length", length);
        return List.of(Event.of(EventType.BEACON, body));
    }

    /**
     * Opens a panel seeded by the beacon's next reveal and the ledger head the panel entry
     * follows, drawn from the voters other than the submitter, the members of the job's account
     * and {@code excluded} (the operators of the nodes that could run it, as the scheduler
     * found them: a recorded input).
     *
     * @throws CoopException FAILED_PRECONDITION when nobody is left to review the job or the
     *         reveal does not follow the last one
     */
    List<Event> open(long job, String submitter, String account, int gpus, String purpose, String head, String reveal,
                     Collection<String> excluded, String reportedBy) {
        if (beacon == null || beacon.spent()) {
            throw CoopException.precondition("a panel needs a reveal of the scheduler's beacon, and "
                    + (beacon == null ? "no beacon was committed" : "its beacon chain is used up"));
        }
        if (!Beacon.follows(reveal, beacon.last())) {
            throw CoopException.precondition("reveal: SHA-256 of the reveal is not the beacon's last reveal "
                    + beacon.last() + " (reveal " + (beacon.used() + 1) + " of " + beacon.length() + ")");
        }
        if (panels.containsKey(job)) {
            throw CoopException.precondition("job " + job + " already has a review panel");
        }
        if (!reportedBy.equals(reported.getOrDefault(job, ""))) {
            throw CoopException.precondition("reported_by: job " + job + " was "
                    + (reported.containsKey(job) ? "reported by " + reported.get(job) : "not reported") + ", not "
                    + (reportedBy.isEmpty() ? "submitted for review" : "by " + reportedBy));
        }
        SortedSet<String> out = new TreeSet<>(excluded);
        List<String> eligible = pool(submitter, account, out);
        reported.remove(job);
        String seed = Beacon.seed(reveal, head);
        long k = coop.policy().params().panelSize();
        List<String> drawn = Lottery.draw(HexFormat.of().parseHex(seed), eligible, (int) k);
        beacon = beacon.revealed(reveal);
        panels.put(job, new Panel(job, submitter, drawn, new LinkedHashMap<>(), new LinkedHashMap<>(), ""));
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("job", job);
        body.put("member", submitter);
        body.put("account", account);
        body.put("gpus", (long) gpus);
        body.put("purpose", purpose == null ? "" : purpose);
        body.put("reveal", reveal);
        body.put("reveal_index", beacon.used());
        body.put("seed", seed);
        body.put("excluded", List.copyOf(out));
        body.put("eligible", eligible);
        body.put("k", k);
        body.put("drawn", drawn);
        if (!reportedBy.isEmpty()) {
            body.put("reported_by", reportedBy);
        }
        return List.of(Event.of(EventType.PANEL, body));
    }

    /**
     * Who may sit on the panel of a job of {@code submitter}'s in {@code account}: the voters other
     * than the submitter, the account's members and {@code excluded}.
     *
     * @throws CoopException FAILED_PRECONDITION when nobody is left
     */
    List<String> pool(String submitter, String account, Collection<String> excluded) {
        List<String> eligible = new ArrayList<>(coop.voters());
        eligible.remove(submitter);
        eligible.removeIf(name -> coop.members.get(name).belongsTo(account) || excluded.contains(name));
        if (eligible.isEmpty()) {
            throw CoopException.precondition("this job needs review, and no member can review it: its submitter, "
                    + "the members of account " + account + " and the operators of the nodes that could run it "
                    + "(and whoever reported it) may not sit on its panel");
        }
        return eligible;
    }

    /**
     * A member's report on a job without a panel: recorded, and the panel the scheduler draws
     * next for the job must name the member ({@code reported_by}).
     */
    List<Event> report(Member m, Statement.Report s, SortedMap<String, Object> body) {
        if (s.job() <= 0) {
            throw CoopException.invalid("job", "must be a job id, got " + s.job());
        }
        if (panels.containsKey(s.job()) || reported.containsKey(s.job())) {
            throw CoopException.precondition("job " + s.job() + " already has a review panel; a report opens one "
                    + "only on a job without");
        }
        coop.requireNewer(m.name(), "report/" + s.job(), s.signedAt());
        coop.accepted(m.name(), "report/" + s.job(), s.signedAt());
        reported.put(s.job(), m.name());
        return List.of(Event.of(s.type(), body));
    }

    void drop(long job) {
        panels.remove(job);
    }

    List<Event> review(Member m, Statement.Review s, SortedMap<String, Object> body) {
        long job = s.job();
        Panel panel = panels.get(job);
        if (panel == null) {
            throw CoopException.notFound("job " + job + " has no open review panel");
        }
        if (!panel.verdict().isEmpty()) {
            throw CoopException.precondition("job " + job + " was already " + panel.verdict() + " by its panel");
        }
        if (!panel.drawn().contains(m.name())) {
            throw CoopException.denied("member " + m.name() + " is not on the review panel of job " + job
                    + " (panel: " + String.join(", ", panel.drawn()) + ")");
        }
        coop.requireNewer(m.name(), "review/" + job, s.signedAt());
        panel.approvals().put(m.name(), s.approve());
        panel.reasons().put(m.name(), s.reason());
        coop.accepted(m.name(), "review/" + job, s.signedAt());
        List<Event> out = new ArrayList<>();
        out.add(Event.of(s.type(), body));
        verdictIfSettled(panel).ifPresent(out::add);
        return out;
    }

    /**
     * What a member's removal does to the panels: those of its jobs that await a verdict are
     * dropped (its jobs are cancelled), and a panel it sat on may now be settled by the rest.
     */
    List<Event> removed(String gone) {
        List<Event> out = new ArrayList<>();
        for (long job : new TreeSet<>(panels.keySet())) {
            Panel panel = panels.get(job);
            if (panel.submitter().equals(gone) && panel.verdict().isEmpty()) {
                panels.remove(job);
                out.add(Event.of(EventType.CANCEL_REVIEW, Map.of("job", job)));
            }
        }
        for (long job : new TreeSet<>(panels.keySet())) {
            verdictIfSettled(panels.get(job)).ifPresent(out::add);
        }
        return out;
    }

    /**
     * Decides a panel once a majority of its members who are still members approve, or once
     * such a majority can no longer approve (a panel left with no member rejects).
     */
    private Optional<Event> verdictIfSettled(Panel panel) {
        if (!panel.verdict().isEmpty()) {
            return Optional.empty();
        }
        List<String> seated = panel.drawn().stream().filter(d -> coop.members.get(d).active()).toList();
        long approving = seated.stream().filter(d -> Boolean.TRUE.equals(panel.approvals().get(d))).count();
        long rejecting = seated.stream().filter(d -> Boolean.FALSE.equals(panel.approvals().get(d))).count();
        int size = seated.size();
        String verdict = approving * 2 > size ? "approved" : rejecting * 2 >= size ? "rejected" : "";
        if (verdict.isEmpty()) {
            return Optional.empty();
        }
        panels.put(panel.job(), new Panel(panel.job(), panel.submitter(), panel.drawn(), panel.approvals(),
                panel.reasons(), verdict));
        SortedMap<String, Object> v = new TreeMap<>();
        v.put("job", panel.job());
        v.put("verdict", verdict);
        v.put("approving", approving);
        v.put("rejecting", rejecting);
        return Optional.of(Event.of(EventType.VERDICT, v));
    }
}
