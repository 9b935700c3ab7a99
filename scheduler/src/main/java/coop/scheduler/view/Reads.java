package coop.scheduler.view;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobSpec;
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

    /** The lines of a page of jobs when the caller asks for no size (page_size and limit 0). */
    public static final int DEFAULT_PAGE = 500;
    /**
     * The most lines of a page of jobs: a page is made in one command on the event loop, so its
     * size bounds how long a listing holds the loop, and the reply stays far below a client's
     * message cap.
     */
    public static final int MAX_PAGE = 5000;

    /**
     * The lines of a page as {@code ListJobsRequest} asks: {@code pageSize}, else (from before
     * pages) {@code limit}, else {@link #DEFAULT_PAGE}; at most {@link #MAX_PAGE}.
     */
    public static int pageSize(int pageSize, int limit) {
        if (pageSize < 0) {
            throw CoopException.invalid("page_size", "must be 0 (the default, " + DEFAULT_PAGE + ") or more, got "
                    + pageSize);
        }
        if (limit < 0) {
            throw CoopException.invalid("limit", "must be 0 (the default page) or more, got " + limit);
        }
        return Math.min(pageSize > 0 ? pageSize : limit > 0 ? limit : DEFAULT_PAGE, MAX_PAGE);
    }

    /**
     * Where the page a token names starts (below the id it holds), or 0 for an empty token (the
     * first page). The token is the id a page ended on; clients are told it is opaque, so that
     * what it holds may change.
     */
    public static long pageStart(String token) {
        if (token.isEmpty()) {
            return 0;
        }
        long id = -1;
        if (token.length() <= 18 && token.chars().allMatch(c -> c >= '0' && c <= '9')) {
            id = Long.parseLong(token);
        }
        if (id < 1) {
            throw CoopException.invalid("page_token", "'" + JobSpec.abbreviated(token) + "' is not a token a "
                    + "listing gave: pass next_page_token as it came, or none for the first page");
        }
        return id;
    }

    /**
     * One page of jobs, newest first, with why pending ones wait, as {@code Jobs.ListJobs} answers;
     * each command only where {@code reader} (the visibility of whoever reads, in the state the read
     * sees) grants it. {@code before} is {@link #pageStart} of the caller's token.
     */
    public static CompletableFuture<ListJobsResponse> jobs(EventLoop loop, Function<ClusterState, JobVisibility> reader,
                                                           JobBook.Filter filter, long before, int size) {
        return loop.call((s, tx) -> {
            JobVisibility visibility = reader.apply(s);
            JobBook.Page page = s.listing(filter, before, size);
            ListJobsResponse.Builder b = ListJobsResponse.newBuilder();
            for (JobBook.Listed l : page.lines()) {
                if (l.array() != null) {
                    b.addArrays(array(s, l.array(), visibility));
                } else {
                    b.addJobs(ProtoMapper.job(l.job(), s.whyPending(l.job().id()), s.expectedStart(l.job().id()),
                            visibility));
                }
            }
            if (page.next() != 0) {
                b.setNextPageToken(Long.toString(page.next()));
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
