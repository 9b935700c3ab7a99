package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Role;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EngineFixture;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.NodeRegistry;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import coop.v1.AgentMessage;
import coop.v1.Gpu;
import coop.v1.Hello;
import coop.v1.LogData;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A cooperative on a real store and event loop, served over an in-process gRPC server by the
 * real services ({@link Services#register}), with one identity per kind of caller. Accounts
 * lab-a and lab-b; in lab-a a researcher ({@code res}), an operator ({@code op}) and a plain
 * member ({@code plain}), each with that one role; in lab-b {@code other} with every role and
 * {@code delta}, a member; {@code gone} was removed by a passed vote. Review panels are one
 * member drawn by lot, for jobs declaring the purpose {@code dual-use}. Nodes n1 (connected,
 * two A100s, its agent answers log requests), n2 (enrolled, for the agent calls of the tests)
 * and n3 (enrolled, never connected), all of lab-a at site s1. Job {@link #runningJob} runs on
 * n1. Jobs the tests submit ask for H100s, which no node has, so they stay pending.
 */
final class RpcFixture implements AutoCloseable {
    static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    /** Who calls. */
    enum Who {
        /** No identity headers. */
        ANONYMOUS,
        /** {@code res}: lab-a, researcher only. */
        RESEARCHER,
        /** {@code op}: lab-a, operator only. */
        OPERATOR,
        /** {@code plain}: lab-a, member (vote) only. */
        MEMBER,
        /** {@code other}: every role, but in lab-b. */
        OTHER_ACCOUNT,
        /** {@code gone}: every role in lab-a until removed by vote; its token is still presented. */
        REMOVED,
        /** Node n2 with its own token, speaking for itself. */
        NODE_SELF,
        /** Node n2 with its own token, speaking for node n1. */
        NODE_OTHER;

        /** The member whose name and key the caller's statements carry (nodes and anonymous sign as plain). */
        String member() {
            return switch (this) {
                case RESEARCHER -> "res";
                case OPERATOR -> "op";
                case OTHER_ACCOUNT -> "other";
                case REMOVED -> "gone";
                default -> "plain";
            };
        }
    }

    final TestMembers keys = new TestMembers();
    final Path dir;
    /** The folder the scheduler takes backups under. */
    final Path backups;
    final EngineFixture engine;
    final Store store;
    final ClusterState state;
    final EventLoop loop;
    final Server server;
    final ManagedChannel channel;
    final long runningJob;
    private final AtomicLong signed = new AtomicLong();
    private final AtomicLong names = new AtomicLong();
    private final List<SchedulerMessage> toN1 = new CopyOnWriteArrayList<>();

    RpcFixture(Path dir) throws Exception {
        this.dir = dir;
        engine = EngineFixture.found(dir.resolve("data"), InstantSource.fixed(NOW), List.of(
                keys.member("res", List.of("lab-a"), EnumSet.of(Role.RESEARCHER)),
                keys.member("op", List.of("lab-a"), EnumSet.of(Role.OPERATOR)),
                keys.member("plain", List.of("lab-a"), EnumSet.of(Role.MEMBER)),
                keys.member("other", List.of("lab-b"), EnumSet.allOf(Role.class)),
                keys.member("delta", List.of("lab-b"), EnumSet.of(Role.MEMBER)),
                keys.member("gone", List.of("lab-a"), EnumSet.allOf(Role.class))),
                List.of("lab-a", "lab-b"));
        store = engine.store();
        state = engine.state();
        loop = engine.loop();
        Authority authority = Authority.create(dir.resolve("ca"), "test", List.of(), new SecureRandom());
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        backups = dir.resolve("backups");
        Services.register(builder, loop, store, state.tokenDigests(), state.enrolledNodes(), authority,
                coop.scheduler.engine.Backup.under(backups, dir.resolve("data")));
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).build();

        SortedMapBuilder params = new SortedMapBuilder().put("panel_size", 1L).put("panel_purposes", List.of("dual-use"));
        pass(ProposalKind.PARAM, Map.of("params", params.map));
        pass(ProposalKind.REMOVE, Map.of("name", "gone"));
        for (String n : List.of("n1", "n2", "n3")) {
            call((s, tx) -> s.enroll("op", n, "s1", "lab-a", Entry.sha256("secret-" + n), tx));
        }
        connectN1();
        runningJob = call((s, tx) -> s.submit("res", new JobSpec("lab-a", 1, 1, "A100", 600, "echo hi", 0,
                "", false, false), tx));
        await().atMost(Duration.ofSeconds(5)).until(() -> toN1.stream().anyMatch(SchedulerMessage::hasLaunch));
    }

    private static final class SortedMapBuilder {
        final TreeMap<String, Object> map = new TreeMap<>();

        SortedMapBuilder put(String k, Object v) {
            map.put(k, v);
            return this;
        }
    }

    /** Opens a proposal by plain and has every member with a vote say yes. */
    void pass(ProposalKind kind, Map<String, Object> change) throws Exception {
        var p = keys.propose("plain", signedAt(), kind, 0, change);
        Proposal opened = call((s, tx) -> s.propose("plain", p.statement(), p.signature(), tx));
        for (String voter : opened.eligible()) {
            var b = keys.vote(voter, signedAt(), opened.id(), Choice.YES);
            call((s, tx) -> s.vote(voter, b.statement(), b.signature(), tx));
        }
        assertThat(call((s, tx) -> s.proposal(opened.id())).state()).isEqualTo(ProposalState.PASSED);
    }

    private void connectN1() {
        connectAgent("n1", "A100", 2, toN1);
    }

    /**
     * Connects an agent for the enrolled node {@code node} (its token is {@code secret-NODE}) with
     * {@code gpus} GPUs of {@code model}; it answers every log request with "hi\n". Every message the
     * scheduler sends it lands in {@code received}; returns once it is welcomed.
     */
    void connectAgent(String node, String model, int gpus, List<SchedulerMessage> received) {
        AtomicReference<StreamObserver<AgentMessage>> agent = new AtomicReference<>();
        agent.set(as(Who.NODE_SELF, NodesGrpc.newStub(channel), node).connect(new StreamObserver<>() {
            @Override
            public void onNext(SchedulerMessage m) {
                received.add(m);
                if (m.hasLogRequest()) {
                    synchronized (agent) {
                        agent.get().onNext(AgentMessage.newBuilder().setLogData(LogData.newBuilder()
                                .setRequestId(m.getLogRequest().getRequestId())
                                .setStdout(ByteString.copyFromUtf8("hi\n"))).build());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        }));
        Hello.Builder hello = Hello.newBuilder().setNode(node).setSite("s1");
        for (int i = 0; i < gpus; i++) {
            hello.addGpus(Gpu.newBuilder().setIndex(i).setModel(model).setMemoryMib(81920));
        }
        synchronized (agent) {
            agent.get().onNext(AgentMessage.newBuilder().setHello(hello).build());
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> received.stream().anyMatch(SchedulerMessage::hasWelcome));
    }

    /** A signed_at no statement has used yet, within the scheduler's skew: each member's statements are newer. */
    long signedAt() {
        return NOW.toEpochMilli() + signed.incrementAndGet();
    }

    /** A name no node or backup has used yet. */
    String fresh(String prefix) {
        return prefix + names.incrementAndGet();
    }

    <T> T call(EventLoop.Command<T> c) throws Exception {
        try {
            return loop.call(c).get();
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** A pending job of res's in lab-a (it asks for H100s, which no node has). */
    long pendingJob(String purpose) throws Exception {
        return pendingJob("res", "lab-a", purpose);
    }

    /**
     * A pending job of {@code member}'s in {@code account}. A panel excludes the submitter's
     * account-mates: one for a job of other's in lab-b can only be plain.
     */
    long pendingJob(String member, String account, String purpose) throws Exception {
        return call((s, tx) -> s.submit(member, new JobSpec(account, 1, 1, "H100", 600, "true", 0, "",
                false, false, purpose), tx));
    }

    /** A pending job array of two tasks submitted by {@code res}; returns the array's id. */
    long pendingArray() throws Exception {
        return call((s, tx) -> s.submitJobs("res", new JobSpec("lab-a", 1, 1, "H100", 600, "true", 0, "",
                false, false, "", "0-1"), tx)).arrayId();
    }

    /** The stub, calling as the member {@code name} (its token is {@code token-NAME}), who need not be a {@link Who}. */
    <S extends AbstractStub<S>> S asMember(String name, S stub) {
        Metadata h = new Metadata();
        h.put(Caller.MEMBER, name);
        h.put(Caller.TOKEN, "token-" + name);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    /** The stub, calling as {@code who}. */
    <S extends AbstractStub<S>> S as(Who who, S stub) {
        return as(who, stub, "n2");
    }

    private <S extends AbstractStub<S>> S as(Who who, S stub, String node) {
        Metadata h = new Metadata();
        switch (who) {
            case ANONYMOUS -> {
                return stub;
            }
            case NODE_SELF, NODE_OTHER -> {
                h.put(PeerAddress.NODE, node);
                h.put(PeerAddress.NODE_TOKEN, "secret-" + node);
            }
            default -> {
                h.put(Caller.MEMBER, who.member());
                h.put(Caller.TOKEN, "token-" + who.member());
            }
        }
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h));
    }

    /** A fresh P-256 public key in PEM, as `coop member certify` sends. */
    static String tlsPublicKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(g.generateKeyPair().getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /**
     * What a refused call must leave as it was: the ledger (every governance change), every job
     * with its state, and every enrolled node with its terms.
     */
    record Snapshot(String ledgerHead, long ledgerSize, List<String> jobs, List<String> nodes) {
    }

    Snapshot snapshot() throws Exception {
        return call((s, tx) -> {
            List<String> jobs = new ArrayList<>();
            for (Job j : s.jobs(null, Set.of(), 0)) {
                jobs.add(j.id() + ":" + j.state() + ":" + j.attempts().size());
            }
            List<String> nodes = new ArrayList<>();
            for (NodeRegistry.NodeStatus n : s.nodes()) {
                nodes.add(n.name() + ":" + n.account() + ":" + n.draining() + ":" + n.drainReason() + ":"
                        + n.reservedGpus() + ":" + n.windows() + ":" + n.timeZone());
            }
            return new Snapshot(s.ledgerHead().head(), s.ledgerHead().size(), jobs, nodes);
        });
    }

    /** The status a call ended with: OK, or the refusal. */
    static StatusRuntimeException outcome(ThrowingRunnable call) {
        try {
            call.run();
            return null;
        } catch (StatusRuntimeException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
        engine.close();
    }
}
