package coop.scheduler.view;

import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.JobVisibility;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.JobBook;
import coop.v1.LedgerHead;
import coop.v1.ListJobsResponse;
import coop.v1.ListNodesResponse;
import coop.v1.ListProposalsResponse;
import coop.v1.UsageResponse;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The read-only answers the scheduler gives, as wire messages: the gRPC services reply with
 * them and the dashboard's JSON API serves them, so both see the same state through the same
 * code. Each is one command on the event loop, so it sees the state between two turns.
 */
public final class Reads {
    private Reads() {
    }

    /** Every node the scheduler knows, as {@code Nodes.ListNodes} answers. */
    public static CompletableFuture<ListNodesResponse> nodes(EventLoop loop) {
        return loop.call((s, tx) -> {
            ListNodesResponse.Builder b = ListNodesResponse.newBuilder();
            s.nodes().forEach(n -> b.addNodes(ProtoMapper.node(n)));
            return b.build();
        });
    }

    /**
     * Jobs, newest first, with why pending ones wait, as {@code Jobs.ListJobs} answers; each
     * command only where {@code reader} (the visibility of whoever reads, in the state the read
     * sees) grants it.
     */
    public static CompletableFuture<ListJobsResponse> jobs(EventLoop loop, Function<ClusterState, JobVisibility> reader,
                                                           String account, Set<JobState> states, int limit) {
        return jobs(loop, reader, account, states, limit, 0, false);
    }

    /**
     * Jobs, newest first, as {@code Jobs.ListJobs} answers: only one array's tasks when {@code arrayId}
     * is set, and each array as one entry instead of its tasks when {@code groupArrays} is.
     */
    public static CompletableFuture<ListJobsResponse> jobs(EventLoop loop, Function<ClusterState, JobVisibility> reader,
                                                           String account, Set<JobState> states, int limit,
                                                           long arrayId, boolean groupArrays) {
        return loop.call((s, tx) -> {
            JobVisibility visibility = reader.apply(s);
            ListJobsResponse.Builder b = ListJobsResponse.newBuilder();
            for (JobBook.Listed l : s.listing(account, states, limit, arrayId, groupArrays)) {
                if (l.array() != null) {
                    b.addArrays(array(s, l.array(), visibility));
                } else {
                    b.addJobs(ProtoMapper.job(l.job(), s.whyPending(l.job().id()), s.expectedStart(l.job().id()),
                            visibility));
                }
            }
            return b.build();
        });
    }

    /** An array as {@code visibility}'s reader may see it. */
    public static coop.v1.JobArray array(ClusterState s, JobArray a, JobVisibility visibility) {
        return ProtoMapper.array(a, visibility.access(a, () -> s.tasks(a.id())).granted());
    }

    /** Proposals with their tallies and the rule each needs, as {@code Governance.ListProposals} answers. */
    public static CompletableFuture<ListProposalsResponse> proposals(EventLoop loop, boolean openOnly) {
        return loop.call((s, tx) -> {
            ListProposalsResponse.Builder b = ListProposalsResponse.newBuilder();
            s.proposals(openOnly).forEach(p -> b.addProposals(ProtoMapper.proposal(p, s.policy().constitution())));
            return b.build();
        });
    }

    /** Each account's voted share next to the GPU time it got, as {@code Governance.Usage} answers. */
    public static CompletableFuture<UsageResponse> usage(EventLoop loop) {
        return loop.call((s, tx) -> ProtoMapper.usage(s.usage()));
    }

    /** The ledger's length and head hash as the event loop last committed them, as {@code Ledger.Head} answers. */
    public static CompletableFuture<LedgerHead> ledgerHead(EventLoop loop) {
        return loop.call((s, tx) -> {
            var h = s.ledgerHead();
            return LedgerHead.newBuilder().setSize(h.size()).setHead(h.head()).build();
        });
    }

    /**
     * The job state a name spells as the wire does, in any case ({@code running}, {@code REVIEW}),
     * or null when it names none.
     */
    public static JobState stateNamed(String name) {
        // ASCII letters only: upper-casing would turn a dotless ı into I.
        if (!name.matches("[A-Za-z]+")) {
            return null;
        }
        coop.v1.JobState wire;
        try {
            wire = coop.v1.JobState.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
        return wire == coop.v1.JobState.UNRECOGNIZED || wire.getNumber() == 0 ? null : ProtoMapper.state(wire);
    }
}
