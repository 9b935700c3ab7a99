package coop.scheduler.domain;

import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * Who may read a job's command and output. Members share compute, not secrets: what a job runs
 * and what it prints belong to its account, whose members read them. So may the operators of the
 * nodes that ran it (members with the operator role in a node's account, or the operator who
 * enrolled it), since the command ran on their machines and its output is on their disks; and,
 * while the job waits in review, the members drawn onto its panel, who cannot judge work they
 * cannot see. Everyone else sees a job's metadata (who, for which account, how many GPUs, where,
 * when, why it waits) with its command withheld, and may not read its output.
 *
 * <p>One instance answers for one reader over one state of the cluster, so a listing asks it
 * once per job.
 */
public final class JobVisibility {

    /** Why a reader may, or may not, read a job's command and output. */
    public enum Access {
        /** The reader belongs to the job's account. */
        ACCOUNT_MEMBER,
        /** The reader operates a node that ran (or runs) an attempt of the job. */
        NODE_OPERATOR,
        /** The job is in review and the reader was drawn onto its panel. */
        REVIEW_PANEL,
        /** The scheduler was told to show every command to this reader (the dashboard, when so started). */
        SHOWN_TO_ALL,
        /** None of the above: metadata only. */
        WITHHELD;

        public boolean granted() {
            return this != WITHHELD;
        }
    }

    /** The rule in words, as refusals and the CLI name it. */
    public static final String RULE = "a job's command and output may be read only by the members of its account, "
            + "the operators of the nodes that ran it, and its review panel while it is in review";

    private static final JobVisibility NOBODY = new JobVisibility(null, false, name -> null, id -> List.of());
    private static final JobVisibility EVERYONE = new JobVisibility(null, true, name -> null, id -> List.of());

    private final Member reader;
    private final boolean showAll;
    private final Function<String, NodeRecord> enrolled;
    private final LongFunction<? extends Collection<String>> panel;

    private JobVisibility(Member reader, boolean showAll, Function<String, NodeRecord> enrolled,
                          LongFunction<? extends Collection<String>> panel) {
        this.reader = reader;
        this.showAll = showAll;
        this.enrolled = enrolled;
        this.panel = panel;
    }

    /**
     * What {@code reader} may read.
     *
     * @param reader   the member reading; null (or a removed member) reads nothing
     * @param enrolled an enrolled node by name, or null when there is none (a removed node's operators
     *                 lose what they could read through it)
     * @param panel    the members drawn onto a job's review panel; empty when it has none
     */
    public static JobVisibility of(Member reader, Function<String, NodeRecord> enrolled,
                                   LongFunction<? extends Collection<String>> panel) {
        return reader == null || !reader.active() ? NOBODY : new JobVisibility(reader, false, enrolled, panel);
    }

    /** For a reader who is no member (an anonymous call, a node, the dashboard): metadata only. */
    public static JobVisibility nobody() {
        return NOBODY;
    }

    /** Every command shown: for a dashboard its operator has chosen to open to whoever reaches it. */
    public static JobVisibility everyone() {
        return EVERYONE;
    }

    public Access access(Job job) {
        if (showAll) {
            return Access.SHOWN_TO_ALL;
        }
        if (reader == null) {
            return Access.WITHHELD;
        }
        if (reader.belongsTo(job.account())) {
            return Access.ACCOUNT_MEMBER;
        }
        if (job.state() == JobState.REVIEW && panel.apply(job.id()).contains(reader.name())) {
            return Access.REVIEW_PANEL;
        }
        if (reader.has(Role.OPERATOR)) {
            for (Attempt a : job.attempts()) {
                for (Placement p : a.placements()) {
                    NodeRecord node = enrolled.apply(p.node());
                    if (node != null && (reader.belongsTo(node.account()) || reader.name().equals(node.operator()))) {
                        return Access.NODE_OPERATOR;
                    }
                }
            }
        }
        return Access.WITHHELD;
    }

    /**
     * Access to an array's command, which all its tasks share: as to its account's jobs, or else
     * whatever access the reader has to any one of its tasks ({@code tasks} is asked only then).
     */
    public Access access(JobArray array, Supplier<List<Job>> tasks) {
        if (showAll) {
            return Access.SHOWN_TO_ALL;
        }
        if (reader == null) {
            return Access.WITHHELD;
        }
        if (reader.belongsTo(array.account())) {
            return Access.ACCOUNT_MEMBER;
        }
        for (Job t : tasks.get()) {
            Access a = access(t);
            if (a.granted()) {
                return a;
            }
        }
        return Access.WITHHELD;
    }

    public boolean mayRead(Job job) {
        return access(job).granted();
    }

    /** @throws CoopException PERMISSION_DENIED, naming the rule, when the reader may not read the job's output */
    public void requireReadable(Job job) {
        if (!mayRead(job)) {
            throw CoopException.denied((reader == null ? "this caller" : "member " + reader.name())
                    + " may not read the output of job " + job.id() + " of account " + job.account() + ": " + RULE);
        }
    }
}
