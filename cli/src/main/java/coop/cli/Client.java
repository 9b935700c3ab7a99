package coop.cli;

import com.google.common.net.InetAddresses;
import coop.scheduler.rpc.SignedStatements;
import coop.v1.GovernanceGrpc;
import coop.v1.Job;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.ListJobsResponse;
import coop.v1.NodesGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.MetadataUtils;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A connection to the scheduler for one CLI command: a channel over mutual TLS with the
 * identity's certificate (plaintext when the identity holds none, or when anonymous) whose
 * calls carry the caller's {@code coop-member} and {@code coop-token} headers (none when
 * anonymous), and blocking stubs for the Jobs, Governance and Nodes services. Each stub
 * returned carries its own {@link #CALL_DEADLINE}, counted from when it is obtained, so
 * obtain one per call.
 */
public final class Client implements AutoCloseable {

    /** Header naming the calling member. */
    public static final Metadata.Key<String> MEMBER_HEADER =
            Metadata.Key.of("coop-member", Metadata.ASCII_STRING_MARSHALLER);
    /** Header carrying the member's secret token. */
    public static final Metadata.Key<String> TOKEN_HEADER =
            Metadata.Key.of("coop-token", Metadata.ASCII_STRING_MARSHALLER);
    /** Longest a single call (or a whole log stream) may take. */
    public static final Duration CALL_DEADLINE = Duration.ofSeconds(30);

    private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    private final String target;
    private final ManagedChannel channel;
    private final Identity identity;
    /** The event loop this client alone uses, shut down by {@link #close()}; null on gRPC's shared one. */
    private final EventLoopGroup eventLoop;

    /**
     * @param target   scheduler {@code HOST:PORT}
     * @param identity the caller, or {@code null} to call anonymously
     */
    public Client(String target, Identity identity) {
        this(target, identity, true, false);
    }

    /**
     * A client for a command that makes its calls and exits ({@link ClientOptions#connect}). It
     * runs its connection on an event loop of its own, which {@link #close()} stops: on gRPC's
     * shared one, the loop's thread would still sit in {@code epoll_wait} when the command calls
     * {@code System.exit}, and the JVM waits up to 300 ms at exit for threads in native code.
     */
    static Client forOneCommand(String target, Identity identity) {
        return new Client(target, identity, true, true);
    }

    /**
     * @param retries whether gRPC may retry a call transparently (one the scheduler never
     *                received): a load generator that counts each call's own outcome turns it off,
     *                and with it the buffering of every call that a retry would need
     */
    public Client(String target, Identity identity, boolean retries) {
        this(target, identity, retries, false);
    }

    private Client(String target, Identity identity, boolean retries, boolean ownEventLoop) {
        this.target = target;
        this.identity = identity;
        this.eventLoop = ownEventLoop ? new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()) : null;
        coop.agent.ClientTls tls = identity == null ? null : identity.tls();
        InetSocketAddress address = ownEventLoop ? ipv4Address(target) : null;
        NettyChannelBuilder builder = (address != null ? coop.agent.ClientTls.channel(address, tls)
                : coop.agent.ClientTls.channel(target, tls))
                .userAgent("coop-cli")
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                // Fixed, as the scheduler's: no bandwidth-probing PING after each reply read.
                .flowControlWindow(coop.scheduler.SchedulerServer.FLOW_CONTROL_WINDOW);
        if (eventLoop != null) {
            builder.eventLoopGroup(eventLoop).channelType(NioSocketChannel.class);
        }
        if (!retries) {
            builder.disableRetry();
        }
        builder.intercept(new ReceiptKeeper());
        if (identity != null) {
            Metadata headers = new Metadata();
            headers.put(MEMBER_HEADER, identity.member());
            headers.put(TOKEN_HEADER, identity.token());
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        this.channel = builder.build();
    }

    /**
     * The address {@code target} names when its host is an IPv4 literal ({@code 127.0.0.1:7070},
     * the default), else null. A one-command client dials such an address directly: gRPC's DNS
     * resolver would hand the same address over from a thread of its own, after setting up its
     * proxy selector and JNDI probing, which costs a short process more than its connection.
     */
    static InetSocketAddress ipv4Address(String target) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0) {
            return null;
        }
        String host = target.substring(0, colon);
        // Guava's parser takes only literals (no lookup) and refuses octets with leading zeros;
        // an IPv6 literal (or an IPv4-mapped one) is left to the resolver.
        if (host.indexOf(':') >= 0 || !InetAddresses.isInetAddress(host)
                || !(InetAddresses.forString(host) instanceof Inet4Address literal)) {
            return null;
        }
        byte[] bytes = literal.getAddress();
        int port;
        try {
            port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        if (port < 0 || port > 65535) {
            return null;
        }
        try {
            // getByAddress with the host as given: no lookup, and the authority stays "host:port".
            return new InetSocketAddress(InetAddress.getByAddress(host, bytes), port);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * Dials again at once on the next call rather than after gRPC's growing backoff (up to two
     * minutes): for a long-lived client of a replicated cooperative whose call found no leader,
     * since a new one serves within seconds.
     */
    public void resetConnectBackoff() {
        channel.resetConnectBackoff();
    }

    /** Where to keep the receipts replies carry ({@link ReceiptFiles}); null keeps none. */
    private volatile java.nio.file.Path receipts;

    /** Keeps the receipt of every reply that changed state in {@code folder} from now on. */
    void keepReceiptsIn(java.nio.file.Path folder) {
        this.receipts = folder;
    }

    private static final Metadata.Key<String> RECEIPT =
            Metadata.Key.of(coop.scheduler.rpc.Receipts.TRAILER, Metadata.ASCII_STRING_MARSHALLER);

    /** Keeps the scheduler's signed head that a reply's trailers carry, where this client keeps receipts. */
    private final class ReceiptKeeper implements io.grpc.ClientInterceptor {
        @Override
        public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
                                                            io.grpc.CallOptions options, io.grpc.Channel next) {
            return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    super.start(new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                            listener) {
                        @Override
                        public void onClose(io.grpc.Status status, Metadata trailers) {
                            keep(trailers.get(RECEIPT));
                            super.onClose(status, trailers);
                        }
                    }, headers);
                }
            };
        }

        private void keep(String receipt) {
            java.nio.file.Path folder = receipts;
            if (receipt == null || folder == null) {
                return;
            }
            try {
                ReceiptFiles.keep(folder, coop.scheduler.rpc.Receipts.parse(receipt));
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("coop: the scheduler's receipt was not kept in " + folder + ": " + e.getMessage());
            }
        }
    }

    /** Opens a proposal, signed with the identity's key. */
    public coop.v1.Proposal propose(coop.v1.ProposeRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.propose(id.member(), r.buildPartial())));
        return governance().propose(r.build());
    }

    /** Casts a ballot, signed with the identity's key. */
    public coop.v1.Proposal vote(coop.v1.VoteRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.ballot(id.member(), r.buildPartial())));
        return governance().vote(r.build());
    }

    /** Sets or revokes a delegation, signed with the identity's key. */
    public coop.v1.DelegateResponse delegate(coop.v1.DelegateRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.delegate(id.member(), r.buildPartial())));
        return governance().delegate(r.build());
    }

    /** Leaves the cooperative, signed with the identity's key. */
    public coop.v1.MemberInfo resign(coop.v1.ResignRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.resign(id.member(), r.buildPartial())));
        return governance().resign(r.build());
    }

    /** Answers the removal proposal that names the identity's member, signed with its key. */
    public coop.v1.Proposal respond(coop.v1.RespondRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.respond(id.member(), r.buildPartial())));
        return governance().respond(r.build());
    }

    /** Reviews a job, signed with the identity's key. */
    public coop.v1.Job review(coop.v1.ReviewRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.review(id.member(), r.buildPartial())));
        return governance().review(r.build());
    }

    public coop.v1.Job report(coop.v1.ReportRequest.Builder r) {
        Identity id = signer();
        r.setSignedAtMs(System.currentTimeMillis());
        r.setSignature(sign(id, () -> SignedStatements.report(id.member(), r.buildPartial())));
        return governance().report(r.build());
    }

    private Identity signer() {
        if (identity == null) {
            throw new CliException(ClientOptions.NO_IDENTITY);
        }
        return identity;
    }

    private static String sign(Identity id, java.util.function.Supplier<java.util.SortedMap<String, Object>> statement) {
        try {
            return SignedStatements.sign(id.signingKey(), statement.get());
        } catch (coop.scheduler.domain.CoopException e) {
            throw new CliException(e.getMessage());
        }
    }

    /** A Ledger stub whose deadline starts now. */
    public coop.v1.LedgerGrpc.LedgerBlockingStub ledger() {
        return coop.v1.LedgerGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis() * 4,
                TimeUnit.MILLISECONDS);
    }

    /**
     * An Admin stub whose deadline starts now. Longer than other calls': a backup to another
     * filesystem than the scheduler's data copies every file.
     */
    public coop.v1.AdminGrpc.AdminBlockingStub admin() {
        return coop.v1.AdminGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis() * 10,
                TimeUnit.MILLISECONDS);
    }

    /** The scheduler's {@code HOST:PORT}. */
    public String target() {
        return target;
    }

    /** A Jobs stub whose deadline starts now. */
    public JobsGrpc.JobsBlockingStub jobs() {
        return JobsGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The most lines a page of jobs holds (the scheduler cuts a larger page_size to it). */
    public static final int MAX_PAGE = coop.scheduler.view.Reads.MAX_PAGE;

    /**
     * Every job {@code request} lists, newest first, following its pages: a listing is paged
     * (500 jobs by default), so one call no longer answers for all of them.
     */
    public List<Job> allJobs(ListJobsRequest request) {
        return pages(request.toBuilder(), 0).getJobsList();
    }

    /**
     * The lines {@code request} lists, page after page, in one reply: at most {@code limit} (jobs, or
     * arrays when grouped) when it is above 0, else every one.
     */
    public ListJobsResponse pages(ListJobsRequest.Builder request, int limit) {
        if (limit < 0) {
            throw new CliException("--limit: must be 0 (every job) or more, got " + limit);
        }
        ListJobsResponse.Builder all = ListJobsResponse.newBuilder();
        int lines = 0;
        while (true) {
            request.setPageSize(limit > 0 ? Math.min(limit - lines, MAX_PAGE) : MAX_PAGE);
            ListJobsResponse page = jobs().listJobs(request.build());
            all.addAllJobs(page.getJobsList()).addAllArrays(page.getArraysList());
            lines += page.getJobsCount() + page.getArraysCount();
            if (page.getNextPageToken().isEmpty() || (limit > 0 && lines >= limit)) {
                return all.build();
            }
            request.setPageToken(page.getNextPageToken());
        }
    }

    /**
     * An asynchronous Jobs stub without a deadline, for a caller that keeps calls in flight
     * without a thread waiting on each and bounds how long it waits for them all
     * ({@code coop bench submit}). Without a deadline every call's headers are the same, so
     * HPACK sends them as indices instead of a new {@code grpc-timeout} literal on each call.
     */
    public JobsGrpc.JobsStub jobsAsync() {
        return JobsGrpc.newStub(channel);
    }

    /**
     * A Jobs stub without a deadline, for a call that lasts as long as a job runs
     * ({@code coop logs -f}); the caller ends it by cancelling its context.
     */
    public JobsGrpc.JobsBlockingStub jobsUntilDone() {
        return JobsGrpc.newBlockingStub(channel);
    }

    /** A Governance stub whose deadline starts now. */
    public GovernanceGrpc.GovernanceBlockingStub governance() {
        return GovernanceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A Nodes stub whose deadline starts now (for ListNodes; agents use their own channel). */
    public NodesGrpc.NodesBlockingStub nodes() {
        return NodesGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (eventLoop != null) {
            // A one-command client closes once its calls are done, and its process then exits:
            // there is nothing left to wait for. The graceful shutdown's wait for the transport
            // to terminate took 7 ms of `coop submit`'s wall time in a profile. Stopping the
            // event loop closes the connection (TLS close_notify, then FIN) and ends its thread.
            channel.shutdownNow();
            try {
                eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
