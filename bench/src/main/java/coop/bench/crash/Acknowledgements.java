package coop.bench.crash;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;

/**
 * What clients sent a scheduler and what it answered, and so what a scheduler restarted
 * after a kill -9 must hold. The rule is the scheduler's own: a reply is sent only after the
 * change is fsynced. So an acknowledged submit is present exactly once and whole; a refused
 * one is absent; one whose reply never came (the process died first) may be present or
 * absent, but at most once and whole, and a restart settles which for good. A member's
 * current ballot on a proposal is its last acknowledged one, or a later one still in doubt.
 *
 * <p>Jobs are told apart by a name unique to each submit, so that a submit applied twice, or
 * applied without a reply, shows. Each member votes from one thread, so its ballots have an
 * order. Thread-safe: client threads record, the checking thread checks between runs.
 */
public final class Acknowledgements {

    /** Where a call stands. */
    private enum Outcome {
        /** Sent; no reply came. */
        IN_DOUBT,
        ACKNOWLEDGED,
        /** The scheduler said no, so nothing changed. */
        REFUSED,
        /** In doubt, then found present after a restart: from then on it must stay. */
        APPLIED,
        /** In doubt, then found absent after a restart: from then on it must stay absent. */
        NOT_APPLIED
    }

    /** A submit or a proposal sent: how it stands, and the id the scheduler gave it, once known. */
    private abstract static class Sent {
        Outcome outcome = Outcome.IN_DOUBT;
        long id;

        /** Whether a restarted scheduler must hold it: acknowledged, or found applied after an earlier restart. */
        boolean mustBePresent() {
            return outcome == Outcome.ACKNOWLEDGED || outcome == Outcome.APPLIED;
        }
    }

    private static final class SentJob extends Sent {
        final String member;
        final String account;
        final String command;

        SentJob(String member, String account, String command) {
            this.member = member;
            this.account = account;
            this.command = command;
        }
    }

    /** A ballot sent; {@code choice} null stands for "no ballot", the settled state of a member who has none. */
    private static final class SentBallot {
        final String choice;
        Outcome outcome;

        SentBallot(String choice, Outcome outcome) {
            this.choice = choice;
            this.outcome = outcome;
        }
    }

    private static final class SentProposal extends Sent {
    }

    private record Voter(String member, long proposal) implements Comparable<Voter> {
        @Override
        public int compareTo(Voter o) {
            int c = Long.compare(proposal, o.proposal);
            return c != 0 ? c : member.compareTo(o.member);
        }
    }

    private final Map<String, SentJob> jobs = new LinkedHashMap<>();
    private final Map<Voter, List<SentBallot>> ballots = new TreeMap<>();
    /** Proposals by their titles, unique to each proposal sent, as jobs by their names. */
    private final Map<String, SentProposal> proposals = new LinkedHashMap<>();
    private long acknowledgedJobs;
    private long acknowledgedBallots;
    private long acknowledgedProposals;
    private long refused;
    private long inDoubt;
    private long inDoubtApplied;
    /** Ballots sent whose reply never came, over the whole run: the ledger may hold up to this many more. */
    private long ballotsInDoubt;

    /** A submit is about to be sent; {@code name} must be unique to it. */
    public synchronized void submitting(String name, String member, String account, String command) {
        if (jobs.putIfAbsent(name, new SentJob(member, account, command)) != null) {
            throw new IllegalArgumentException("job name " + name + " was already used");
        }
    }

    public synchronized void submitAcknowledged(String name, long id) {
        SentJob j = sent(name);
        j.outcome = Outcome.ACKNOWLEDGED;
        j.id = id;
        acknowledgedJobs++;
    }

    public synchronized void submitRefused(String name) {
        sent(name).outcome = Outcome.REFUSED;
        refused++;
    }

    /** A proposal is about to be sent; {@code title} must be unique to it. Every proposal has a long deadline. */
    public synchronized void proposing(String title) {
        if (proposals.putIfAbsent(title, new SentProposal()) != null) {
            throw new IllegalArgumentException("proposal title " + title + " was already used");
        }
    }

    /** The scheduler acknowledged the proposal; it must stay, open. */
    public synchronized void proposalAcknowledged(String title, long id) {
        SentProposal p = proposals.get(title);
        p.outcome = Outcome.ACKNOWLEDGED;
        p.id = id;
        acknowledgedProposals++;
    }

    public synchronized void proposalRefused(String title) {
        proposals.get(title).outcome = Outcome.REFUSED;
        refused++;
    }

    /** The proposals known to be open: acknowledged, or found after a restart. */
    public synchronized List<Long> proposals() {
        return proposals.values().stream().filter(p -> p.outcome == Outcome.ACKNOWLEDGED
                || p.outcome == Outcome.APPLIED).map(p -> p.id).sorted().toList();
    }

    /**
     * A ballot is about to be sent; returns its number, for {@link #ballotAcknowledged} and
     * {@link #ballotRefused}. One member's ballots must be recorded in the order it sends them.
     */
    public synchronized int balloting(String member, long proposal, String choice) {
        List<SentBallot> history = ballots.computeIfAbsent(new Voter(member, proposal), v -> new ArrayList<>());
        history.add(new SentBallot(Objects.requireNonNull(choice), Outcome.IN_DOUBT));
        return history.size() - 1;
    }

    public synchronized void ballotAcknowledged(String member, long proposal, int number) {
        ballots.get(new Voter(member, proposal)).get(number).outcome = Outcome.ACKNOWLEDGED;
        acknowledgedBallots++;
    }

    public synchronized void ballotRefused(String member, long proposal, int number) {
        ballots.get(new Voter(member, proposal)).get(number).outcome = Outcome.REFUSED;
        refused++;
    }

    public synchronized long acknowledgedJobs() {
        return acknowledgedJobs;
    }

    public synchronized long acknowledgedBallots() {
        return acknowledgedBallots;
    }

    public synchronized long acknowledgedProposals() {
        return acknowledgedProposals;
    }

    public synchronized long refused() {
        return refused;
    }

    /** Calls whose reply never came, settled by restarts so far. */
    public synchronized long inDoubt() {
        return inDoubt;
    }

    /** Of those, the ones found applied. */
    public synchronized long inDoubtApplied() {
        return inDoubtApplied;
    }

    /**
     * Checks what a restarted scheduler holds against what was acknowledged, then settles every
     * call still in doubt as the restart found it, so the next check holds the scheduler to it.
     */
    public synchronized List<Violation> check(Recovered r) {
        List<Violation> out = new ArrayList<>();
        if (!r.ledgerOk()) {
            out.add(new Violation(Violation.Kind.LEDGER, "the ledger does not verify: " + r.ledgerProblem()));
        }
        checkJobs(r, out);
        checkBallots(r, out);
        return out;
    }

    private void checkJobs(Recovered r, List<Violation> out) {
        Map<String, List<Recovered.Job>> byName = new LinkedHashMap<>();
        for (Recovered.Job j : r.jobs()) {
            byName.computeIfAbsent(j.name(), n -> new ArrayList<>()).add(j);
        }
        Map<Long, String> ids = new TreeMap<>();
        for (var e : jobs.entrySet()) {
            SentJob s = e.getValue();
            if (s.mustBePresent()) {
                String other = ids.put(s.id, e.getKey());
                if (other != null) {
                    out.add(new Violation(Violation.Kind.DUPLICATED, "job id " + s.id + " was given to two submits: "
                            + other + " and " + e.getKey()));
                }
            }
        }
        for (var e : byName.entrySet()) {
            String name = e.getKey();
            List<Recovered.Job> found = e.getValue();
            SentJob s = jobs.get(name);
            if (found.size() > 1) {
                out.add(new Violation(Violation.Kind.DUPLICATED, "submit " + name + " is present as "
                        + found.size() + " jobs: " + found.stream().map(j -> Long.toString(j.id())).toList()));
            }
            Recovered.Job j = found.get(0);
            if (s == null) {
                out.add(new Violation(Violation.Kind.PHANTOM, "job " + j.id() + " (" + name + ") was never submitted"));
                continue;
            }
            if (s.outcome == Outcome.REFUSED || s.outcome == Outcome.NOT_APPLIED) {
                out.add(new Violation(Violation.Kind.PHANTOM, "job " + j.id() + " (" + name + ") is present, but its "
                        + "submit was " + (s.outcome == Outcome.REFUSED ? "refused" : "absent after an earlier restart")));
            }
            if (!j.member().equals(s.member) || !j.account().equals(s.account) || !j.command().equals(s.command)) {
                out.add(new Violation(Violation.Kind.HALF_APPLIED, "job " + j.id() + " (" + name + ") holds member "
                        + j.member() + ", account " + j.account() + ", command '" + j.command() + "'; sent "
                        + s.member + ", " + s.account + ", '" + s.command + "'"));
            }
            if (s.mustBePresent() && found.stream().noneMatch(f -> f.id() == s.id)) {
                out.add(new Violation(Violation.Kind.LOST, "submit " + name + " was acknowledged as job " + s.id
                        + " but is present as job " + j.id()));
            }
        }
        settle(jobs, byName, (id, name) -> "job " + id + " (" + name + ")", Recovered.Job::id, out);
    }

    private void checkProposals(Recovered r, List<Violation> out) {
        Map<String, List<Recovered.Proposal>> byTitle = new LinkedHashMap<>();
        r.proposals().forEach(p -> byTitle.computeIfAbsent(p.title(), t -> new ArrayList<>()).add(p));
        for (var e : byTitle.entrySet()) {
            String title = e.getKey();
            List<Recovered.Proposal> found = e.getValue();
            Recovered.Proposal p = found.get(0);
            SentProposal s = proposals.get(title);
            if (found.size() > 1) {
                out.add(new Violation(Violation.Kind.DUPLICATED, "proposal '" + title + "' is present " + found.size()
                        + " times: " + found.stream().map(f -> Long.toString(f.id())).toList()));
            }
            if (s == null) {
                out.add(new Violation(Violation.Kind.PHANTOM, "proposal " + p.id() + " ('" + title + "') was never "
                        + "sent"));
                continue;
            }
            if (s.outcome == Outcome.REFUSED || s.outcome == Outcome.NOT_APPLIED) {
                out.add(new Violation(Violation.Kind.PHANTOM, "proposal " + p.id() + " ('" + title + "') is present, "
                        + "but it was " + (s.outcome == Outcome.REFUSED ? "refused" : "absent after an earlier restart")));
            }
            if (s.mustBePresent() && found.stream().noneMatch(f -> f.id() == s.id)) {
                out.add(new Violation(Violation.Kind.LOST, "proposal '" + title + "' was acknowledged as " + s.id
                        + " but is present as " + p.id()));
            }
            if (!p.open()) {
                out.add(new Violation(Violation.Kind.LOST, "proposal " + p.id() + " ('" + title + "') was opened "
                        + "with a long deadline and is closed"));
            }
        }
        settle(proposals, byTitle, (id, title) -> "proposal " + id + " ('" + title + "')", Recovered.Proposal::id,
                out);
    }

    /**
     * The sent writes of one kind against those present after a restart, by their unique name:
     * one acknowledged, or found applied after an earlier restart, and now absent is lost; one
     * in doubt is settled for good, as applied (with the id it has) or not.
     */
    private <S extends Sent, P> void settle(Map<String, S> sent, Map<String, List<P>> present,
                                            BiFunction<Long, String, String> describe, ToLongFunction<P> idOf,
                                            List<Violation> out) {
        for (var e : sent.entrySet()) {
            S s = e.getValue();
            List<P> found = present.get(e.getKey());
            if (s.mustBePresent() && found == null) {
                out.add(new Violation(Violation.Kind.LOST, describe.apply(s.id, e.getKey()) + " was "
                        + (s.outcome == Outcome.ACKNOWLEDGED ? "acknowledged" : "present after an earlier restart")
                        + " and is gone"));
            }
            if (s.outcome == Outcome.IN_DOUBT) {
                inDoubt++;
                if (found != null) {
                    inDoubtApplied++;
                    s.outcome = Outcome.APPLIED;
                    s.id = idOf.applyAsLong(found.get(0));
                } else {
                    s.outcome = Outcome.NOT_APPLIED;
                }
            }
        }
    }

    private void checkBallots(Recovered r, List<Violation> out) {
        Map<Long, Recovered.Proposal> byId = new TreeMap<>();
        r.proposals().forEach(p -> byId.put(p.id(), p));
        checkProposals(r, out);
        for (Recovered.Proposal p : byId.values()) {
            long yes = p.ballots().values().stream().filter("yes"::equals).count();
            long no = p.ballots().values().stream().filter("no"::equals).count();
            long abstain = p.ballots().values().stream().filter("abstain"::equals).count();
            if (yes != p.yes() || no != p.no() || abstain != p.abstain()) {
                out.add(new Violation(Violation.Kind.HALF_APPLIED, "proposal " + p.id() + " tallies " + p.yes()
                        + " yes, " + p.no() + " no, " + p.abstain() + " abstain, but its ballots are " + yes + ", "
                        + no + ", " + abstain));
            }
            for (String member : p.ballots().keySet()) {
                if (!ballots.containsKey(new Voter(member, p.id()))) {
                    out.add(new Violation(Violation.Kind.PHANTOM, "proposal " + p.id() + " holds a ballot by " + member
                            + ", who never voted on it"));
                }
            }
        }
        long newlyInDoubt = 0;
        for (var e : ballots.entrySet()) {
            Voter v = e.getKey();
            List<SentBallot> history = e.getValue();
            Recovered.Proposal p = byId.get(v.proposal());
            String found = p == null ? null : p.ballots().get(v.member());
            // The last ballot known to be in force, then any sent after it whose reply never came.
            int last = -1;
            for (int i = 0; i < history.size(); i++) {
                Outcome o = history.get(i).outcome;
                if (o == Outcome.ACKNOWLEDGED || o == Outcome.APPLIED) {
                    last = i;
                }
            }
            Set<String> allowed = new HashSet<>();
            allowed.add(last < 0 ? null : history.get(last).choice);
            for (int i = last + 1; i < history.size(); i++) {
                if (history.get(i).outcome == Outcome.IN_DOUBT) {
                    allowed.add(history.get(i).choice);
                }
            }
            for (SentBallot b : history) {
                if (b.outcome == Outcome.IN_DOUBT) {
                    newlyInDoubt++;
                }
            }
            if (!allowed.contains(found)) {
                boolean acknowledged = last >= 0 && history.get(last).outcome == Outcome.ACKNOWLEDGED;
                String was = last < 0 ? "none" : history.get(last).choice;
                out.add(new Violation(last >= 0 && history.get(last).choice != null ? Violation.Kind.LOST
                        : Violation.Kind.PHANTOM, "ballot of " + v.member() + " on proposal " + v.proposal() + ": "
                        + (acknowledged ? "acknowledged " : "in force ") + was + (allowed.size() > 1
                        ? " (or one in doubt: " + allowed.stream().filter(Objects::nonNull).sorted().toList() + ")" : "")
                        + ", found " + (found == null ? "none" : found)));
            }
            // Settled: what the restart found is now in force.
            history.clear();
            history.add(new SentBallot(found, Outcome.APPLIED));
        }
        inDoubt += newlyInDoubt;
        ballotsInDoubt += newlyInDoubt;
        long castAtMost = acknowledgedBallots + ballotsInDoubt;
        if (r.ledgerOk() && r.ledgerBallots() > castAtMost) {
            out.add(new Violation(Violation.Kind.DUPLICATED, "the ledger holds " + r.ledgerBallots() + " ballots, "
                    + "but only " + acknowledgedBallots + " were acknowledged and " + ballotsInDoubt + " sent without "
                    + "a reply"));
        }
        if (r.ledgerOk() && r.ledgerBallots() < acknowledgedBallots) {
            out.add(new Violation(Violation.Kind.LOST, "the ledger holds " + r.ledgerBallots() + " ballots, but "
                    + acknowledgedBallots + " were acknowledged"));
        }
    }

    private SentJob sent(String name) {
        SentJob j = jobs.get(name);
        if (j == null) {
            throw new IllegalArgumentException("no submit named " + name + " was recorded");
        }
        return j;
    }
}
