package coop.scheduler.rpc;

import coop.scheduler.engine.Backup;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.metrics.Metrics;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Registers the services, behind certificate and member authentication, on a server builder. */
public final class Services {
    private Services() {
    }

    /**
     * @param authority the cooperative's CA, which signs the certificates of enrolled nodes and
     *                  admitted members; null when the scheduler runs without TLS
     */
    public static void register(ServerBuilder<?> builder, EventLoop loop, Store store,
                                Map<String, String> tokenDigests, Set<String> enrolledNodes, Authority authority) {
        register(builder, loop, store, tokenDigests, enrolledNodes, authority, Backup.refused());
    }

    /** As above, with backups taken as {@code backups} allows. */
    public static void register(ServerBuilder<?> builder, EventLoop loop, Store store,
                                Map<String, String> tokenDigests, Set<String> enrolledNodes, Authority authority,
                                Backup backups) {
        register(builder, loop, store, tokenDigests, enrolledNodes, authority,
                new Metrics(java.time.InstantSource.system(), java.time.Duration.ofSeconds(5)), backups);
    }

    /**
     * As above, with every call timed into {@code metrics} (its interceptor wraps every service, so
     * refusals by the others are counted with their status) and heartbeats' delays recorded.
     */
    public static void register(ServerBuilder<?> builder, EventLoop loop, Store store,
                                Map<String, String> tokenDigests, Set<String> enrolledNodes, Authority authority,
                                Metrics metrics, Backup backups) {
        register(builder, loop, store, tokenDigests, enrolledNodes, authority, metrics, backups, null);
    }

    /** As above, on a replica: {@code replicas} reports the group for the Admin service (null when not replicated). */
    public static void register(ServerBuilder<?> builder, EventLoop loop, Store store,
                                Map<String, String> tokenDigests, Set<String> enrolledNodes, Authority authority,
                                Metrics metrics, Backup backups,
                                java.util.function.Supplier<java.util.List<coop.scheduler.replica.Replica.Status>>
                                        replicas) {
        builder.intercept(metrics.rpcInterceptor());
        builder.intercept(new Receipts(loop));
        // An agent's stream only hands its reports to the event loop's queue and never blocks, so its
        // callbacks run on the transport's thread: with 10,000 agents heartbeating each second, a
        // hop to another thread per heartbeat is most of what a heartbeat costs. Other calls keep
        // the default executor (some wait, for agents' log output).
        String connect = coop.v1.NodesGrpc.getConnectMethod().getFullMethodName();
        builder.callExecutor(new io.grpc.ServerCallExecutorSupplier() {
            @Override
            public <Q, R> java.util.concurrent.Executor getExecutor(io.grpc.ServerCall<Q, R> call,
                                                                    io.grpc.Metadata headers) {
                return call.getMethodDescriptor().getFullMethodName().equals(connect) ? Runnable::run : null;
            }
        });
        Caller caller = new Caller(tokenDigests);
        PeerCertificate certificate = new PeerCertificate(tokenDigests, enrolledNodes);
        builder.addTransportFilter(certificate.readAtHandshake());
        LogBroker logs = new LogBroker();
        // One daemon thread serves every `coop logs -f`: each poll only asks and forwards bytes.
        ScheduledExecutorService followers = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "coop-log-followers");
            t.setDaemon(true);
            return t;
        });
        // The last interceptor given runs first: the certificate is checked before the token. Requests
        // are parsed outside them all, so bytes that are no request get INVALID_ARGUMENT, and every
        // refusal's description is kept short.
        WorkdirTransfers workdirs = new WorkdirTransfers(loop, new coop.scheduler.store.WorkdirBlobs(store));
        add(builder, ServerInterceptors.intercept(new JobsService(loop, logs, followers, workdirs), caller,
                certificate));
        add(builder, ServerInterceptors.intercept(new GovernanceService(loop, authority), caller, certificate));
        add(builder, ServerInterceptors.intercept(new NodesService(loop, logs, authority, metrics, workdirs), caller,
                new PeerAddress(),
                certificate));
        // Anyone may read the ledger, but a call that names a member must carry that member's token,
        // as on every other service: a removed member's stale identity is refused, not ignored.
        add(builder, ServerInterceptors.intercept(new LedgerService(loop, store), caller, certificate));
        add(builder, ServerInterceptors.intercept(new AdminService(loop, store, backups, replicas), caller, certificate));
        // Whether the scheduler serves is no member's business: the health service needs no identity.
        Health.register(builder, loop);
    }

    private static void add(ServerBuilder<?> builder, io.grpc.ServerServiceDefinition service) {
        builder.addService(RequestParsing.refuseUnparsable(ServerInterceptors.intercept(service,
                new ShortRefusals())));
    }
}
