package coop.scheduler.rpc;

import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.StopTerms;
import coop.scheduler.engine.AgentLink;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.Pulse;
import coop.scheduler.metrics.Metrics;
import coop.scheduler.trust.Authority;
import coop.scheduler.view.ProtoMapper;
import coop.scheduler.view.Reads;
import coop.v1.AgentMessage;
import coop.v1.AttemptRef;
import coop.v1.ExitAck;
import coop.v1.Heartbeat;
import coop.v1.Kill;
import coop.v1.Launch;
import coop.v1.ListNodesRequest;
import coop.v1.ListNodesResponse;
import coop.v1.LogRequest;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import coop.v1.StopSignal;
import coop.v1.Welcome;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The Nodes service: each agent's Connect stream becomes an {@link AgentLink}. The first
 * message must be Hello; later reports are posted to the event loop in arrival order.
 */
final class NodesService extends NodesGrpc.NodesImplBase {
    private final java.security.SecureRandom random = new java.security.SecureRandom();
    private final EventLoop loop;
    private final LogBroker logs;
    private final Authority authority;
    private final Metrics metrics;
    private final java.util.concurrent.Executor certificates = java.util.concurrent.Executors.newFixedThreadPool(2,
            task -> {
                Thread t = new Thread(task, "coop-node-certificates");
                t.setDaemon(true);
                return t;
            });

    private final WorkdirTransfers workdirs;

    /** @param authority signs enrolled nodes' certificates; null when the scheduler runs without TLS */
    NodesService(EventLoop loop, LogBroker logs, Authority authority,
                 Metrics metrics, WorkdirTransfers workdirs) {
        this.workdirs = workdirs;
        this.loop = loop;
        this.logs = logs;
        this.authority = authority;
        this.metrics = metrics;
    }

    @Override
    public void enroll(coop.v1.EnrollRequest r, StreamObserver<coop.v1.EnrollResponse> out) {
        String member = Caller.member();
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        // The key and certificate are made off the event loop (they are milliseconds of CPU each, and
        // the loop applies every heartbeat), once the enrollment is on disk.
        Replies.unary(loop.call((s, tx) -> s.enroll(member, r.getName(), r.getSite(), r.getAccount(),
                Caller.sha256(token), tx)).thenApplyAsync(rec -> {
                    coop.v1.EnrollResponse.Builder b = coop.v1.EnrollResponse.newBuilder().setName(rec.name())
                            .setSite(rec.site()).setAccount(rec.account()).setToken(token);
                    if (authority != null) {
                        // A fresh key each enrollment: the scheduler hands it over once and keeps no copy.
                        var issued = authority.issue(new Authority.Holder(
                                Authority.Holder.NODE, rec.name()));
                        b.setCaCertificate(authority.caPem()).setCertificate(issued.certificatePem())
                                .setPrivateKey(issued.privateKeyPem());
                    }
                    return b.build();
                }, certificates).thenCompose(response -> response.getCertificate().isEmpty()
                        ? java.util.concurrent.CompletableFuture.completedFuture(response)
                        // Recorded in the ledger before it is handed over.
                        : loop.call((s, tx) -> {
                            s.certificateIssued(Authority.Holder.NODE, response.getName(),
                                    Authority.serial(response.getCertificate()), tx);
                            return response;
                        })), out, response -> response);
    }

    @Override
    public void remove(coop.v1.RemoveNodeRequest r, StreamObserver<coop.v1.NodeInfo> out) {
        String member = Caller.member();
        Replies.unary(loop.call((s, tx) -> s.removeNode(member, r.getName(), tx)), out, ProtoMapper::node);
    }

    @Override
    public void drain(coop.v1.DrainRequest r, StreamObserver<coop.v1.NodeInfo> out) {
        String member = Caller.member();
        Replies.unary(loop.call((s, tx) -> s.drain(member, r.getName(), r.getDrain(), r.getReason(), tx)), out,
                ProtoMapper::node);
    }

    @Override
    public void setTerms(coop.v1.SetTermsRequest r, StreamObserver<coop.v1.NodeInfo> out) {
        String member = Caller.member();
        Integer reserve = r.hasReservedGpus() ? r.getReservedGpus() : null;
        List<String> windows = r.getSetWindows() ? List.copyOf(r.getWindowsList()) : null;
        List<String> refused = r.getSetRefusedPurposes() ? List.copyOf(r.getRefusedPurposesList()) : null;
        Replies.unary(loop.call((s, tx) -> s.setTerms(member, r.getName(), reserve, windows, r.getTimeZone(), refused,
                        tx)),
                out, ProtoMapper::node);
    }

    @Override
    public void fetchWorkdir(coop.v1.FetchWorkdirRequest r, StreamObserver<coop.v1.WorkdirChunk> out) {
        workdirs.fetch(PeerAddress.node(), PeerAddress.token(), r, out);
    }

    @Override
    public void listNodes(ListNodesRequest r, StreamObserver<ListNodesResponse> out) {
        Replies.unary(Reads.nodes(loop), out, x -> x);
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<SchedulerMessage> out) {
        StreamLink link = new StreamLink(out);
        String peer = PeerAddress.current();
        String node = PeerAddress.node();
        String token = PeerAddress.token();
        return new StreamObserver<>() {
            private boolean helloSeen;
            /** What the last heartbeat handed to the loop reported; null before the first. */
            private List<AttemptRef> reportedRunning;
            private List<coop.v1.GpuUsage> reportedUsage;

            @Override
            public void onNext(AgentMessage m) {
                if (!helloSeen) {
                    if (m.getBodyCase() != AgentMessage.BodyCase.HELLO) {
                        link.fail(Status.FAILED_PRECONDITION.withDescription("the first message must be hello"));
                        return;
                    }
                    helloSeen = true;
                    var h = m.getHello();
                    if (h.getVersion().length() > Fields.MAX_VERSION) {
                        link.fail(Status.INVALID_ARGUMENT.withDescription("hello.version: must be at most "
                                + Fields.MAX_VERSION + " characters"));
                        return;
                    }
                    List<Gpu> gpus = h.getGpusList().stream()
                            .map(g -> new Gpu(g.getIndex(), g.getModel(), g.getMemoryMib())).toList();
                    List<RankRef> running = h.getRunningList().stream().map(NodesService::ref).toList();
                    String address = h.getAddress().isEmpty() ? peer : h.getAddress();
                    // Shown to people, so made fit to show: one line, bounded.
                    String said = h.getIsolation().replaceAll("\\p{Cntrl}", " ");
                    String isolation = said.length() > 200 ? said.substring(0, 200) : said;
                    // Only whether there is one counts; the path is kept, bounded, for people to read.
                    String root = h.getCheckpointRoot().replaceAll("\\p{Cntrl}", " ");
                    String checkpointRoot = root.length() > 200 ? root.substring(0, 200) : root;
                    NodeFeatures features = new NodeFeatures(h.getContainerRuntimesList(), h.getAllowedMountsList(),
                            h.getMemoryPerGpuMib());
                    loop.call((s, tx) -> {
                        s.authenticateNode(node, token, h.getNode(), h.getSite());
                        s.hello(link, h.getNode(), h.getSite(), gpus, running, address, isolation, tx);
                        s.checkpointRoot(h.getNode(), checkpointRoot);
                        s.features(h.getNode(), features, tx);
                        return null;
                    }).whenComplete((v, e) -> {
                        if (e != null) {
                            link.fail(Replies.status(e).getStatus());
                        }
                    });
                    return;
                }
                switch (m.getBodyCase()) {
                    case HEARTBEAT -> {
                        var hb = m.getHeartbeat();
                        Pulse pulse = link.pulse;
                        if (pulse != null && hb.getRunningList().equals(reportedRunning)
                                && hb.getGpusList().equals(reportedUsage)) {
                            // Nothing the node's state lacks: only its liveness, which the loop's sweep
                            // reads from the pulse. Most heartbeats are these.
                            pulse.beat(hb.getSentAtMs());
                            metrics.heartbeatApplied(hb.getSentAtMs());
                            return;
                        }
                        // The first of the session (it settles the ranks its Hello did not report), or
                        // one with news: through the loop, in order with the stream's other reports.
                        reportedRunning = hb.getRunningList();
                        reportedUsage = hb.getGpusList();
                        List<RankRef> running = hb.getRunningList().stream().map(NodesService::ref).toList();
                        List<GpuUsage> usage = usage(hb);
                        loop.post((s, tx) -> {
                            s.heartbeat(link, running, hb.getSentAtMs(), usage, tx);
                            metrics.heartbeatApplied(hb.getSentAtMs());
                            return null;
                        });
                    }
                    case EXITED -> {
                        var x = m.getExited();
                        loop.post((s, tx) -> {
                            s.exited(link, ref(x.getRef()), x.getExitCode(), x.getReason(), x.getWhy(), tx);
                            return null;
                        });
                    }
                    case HEALTH -> {
                        var h = m.getHealth();
                        loop.post((s, tx) -> {
                            s.nodeHealth(link, h.getHealthy(), h.getReason(), tx);
                            return null;
                        });
                    }
                    case LOG_DATA -> {
                        var d = m.getLogData();
                        logs.answer(d.getRequestId(), new LogBroker.Output(d.getStdout().toByteArray(),
                                d.getStdoutOffset(), d.getStderr().toByteArray(), d.getStderrOffset(), d.getError()));
                    }
                    case STARTED -> {
                        // The launch is already recorded; the pid is for the agent's own bookkeeping.
                    }
                    default -> link.fail(Status.INVALID_ARGUMENT.withDescription("hello: sent twice or unknown message"));
                }
            }

            @Override
            public void onError(Throwable t) {
                gone();
            }

            @Override
            public void onCompleted() {
                gone();
                link.completeQuietly();
            }

            private void gone() {
                loop.post((s, tx) -> {
                    s.disconnected(link);
                    return null;
                });
            }
        };
    }

    /**
     * The usage a heartbeat reports, less impossible entries. Those are dropped rather than failing
     * the stream: the heartbeat's real job is liveness, and refusing it over a telemetry glitch
     * would get a working node declared lost.
     */
    static List<GpuUsage> usage(Heartbeat hb) {
        return hb.getGpusList().stream()
                .map(g -> new GpuUsage(g.getIndex(),
                        g.hasUtilizationPct() ? OptionalInt.of(g.getUtilizationPct()) : OptionalInt.empty(),
                        g.hasMemoryUsedMib() ? OptionalLong.of(g.getMemoryUsedMib()) : OptionalLong.empty()))
                .filter(GpuUsage::plausible)
                .toList();
    }

    static RankRef ref(AttemptRef r) {
        return new RankRef(r.getJobId(), r.getAttempt(), r.getRank());
    }

    static AttemptRef ref(RankRef r) {
        return AttemptRef.newBuilder().setJobId(r.jobId()).setAttempt(r.attempt()).setRank(r.rank()).build();
    }

    /** Sends on one agent stream; StreamObserver is not thread-safe, so every send is serialized. */
    static final class StreamLink implements AgentLink {
        private final StreamObserver<SchedulerMessage> out;
        private boolean closed;
        /** Set once the loop has accepted the session (its Welcome); null until then. */
        volatile Pulse pulse;

        StreamLink(StreamObserver<SchedulerMessage> out) {
            this.out = out;
        }

        private synchronized void send(SchedulerMessage m) {
            if (!closed) {
                out.onNext(m);
            }
        }

        synchronized void fail(Status status) {
            if (!closed) {
                closed = true;
                out.onError(status.asRuntimeException());
            }
        }

        synchronized void completeQuietly() {
            if (!closed) {
                closed = true;
                out.onCompleted();
            }
        }

        @Override
        public void welcome(long heartbeatIntervalMs, Pulse pulse, List<String> accounts) {
            this.pulse = pulse;
            send(SchedulerMessage.newBuilder().setWelcome(Welcome.newBuilder()
                    .setHeartbeatIntervalMs(heartbeatIntervalMs).addAllAccounts(accounts)).build());
        }

        @Override
        public void launch(RankRef ref, String command, List<Integer> gpuIndices, Map<String, String> env,
                           long walltimeSeconds, StopTerms stop, Map<String, String> userEnv, String chdir,
                           JobContainer container, String workdir, JobOptions rank) {
            Launch.Builder launch = Launch.newBuilder().setRef(ref(ref)).setCommand(command)
                    .addAllGpuIndices(gpuIndices).putAllEnv(env).setWalltimeSeconds(walltimeSeconds)
                    .putAllUserEnv(userEnv).setChdir(chdir).setContainer(container.image())
                    .addAllMounts(ProtoMapper.mounts(container)).setWorkdir(workdir).setMemMb(rank.memMb())
                    .setOutput(rank.output()).setError(rank.error());
            if (stop.warns()) {
                launch.setSignal(signal(stop));
            }
            send(SchedulerMessage.newBuilder().setLaunch(launch).build());
        }

        @Override
        public void kill(RankRef ref, String reason, long graceSeconds, String cause, StopTerms stop) {
            Kill.Builder kill = Kill.newBuilder().setRef(ref(ref)).setReason(reason).setGraceSeconds(graceSeconds)
                    .setStopReason(cause);
            if (stop.warns()) {
                kill.setSignal(signal(stop));
            }
            send(SchedulerMessage.newBuilder().setKill(kill).build());
        }

        private static StopSignal signal(StopTerms stop) {
            return StopSignal.newBuilder().setName(stop.signal()).setLeadSeconds(stop.leadSeconds())
                    .setShellOnly(stop.shellOnly()).build();
        }

        @Override
        public void ackExit(RankRef ref) {
            send(SchedulerMessage.newBuilder().setExitAck(ExitAck.newBuilder().setRef(ref(ref))).build());
        }

        @Override
        public void requestLogs(long requestId, RankRef ref, int maxBytes, long stdoutOffset, long stderrOffset) {
            send(SchedulerMessage.newBuilder().setLogRequest(LogRequest.newBuilder().setRequestId(requestId)
                    .setRef(ref(ref)).setMaxBytes(maxBytes).setStdoutOffset(stdoutOffset)
                    .setStderrOffset(stderrOffset)).build());
        }

        @Override
        public void close(String reason) {
            fail(Status.ABORTED.withDescription(reason));
        }
    }

}
