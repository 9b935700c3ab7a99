package coop.scheduler.rpc;

import static coop.scheduler.rpc.RpcFixture.Who.ANONYMOUS;
import static coop.scheduler.rpc.RpcFixture.Who.MEMBER;
import static coop.scheduler.rpc.RpcFixture.Who.NODE_OTHER;
import static coop.scheduler.rpc.RpcFixture.Who.NODE_SELF;
import static coop.scheduler.rpc.RpcFixture.Who.OPERATOR;
import static coop.scheduler.rpc.RpcFixture.Who.OTHER_ACCOUNT;
import static coop.scheduler.rpc.RpcFixture.Who.REMOVED;
import static coop.scheduler.rpc.RpcFixture.Who.RESEARCHER;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.OK;
import static io.grpc.Status.Code.PERMISSION_DENIED;
import static io.grpc.Status.Code.UNAUTHENTICATED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Descriptors;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.governance.Statements;
import coop.scheduler.ledger.Entry;
import coop.scheduler.rpc.RpcFixture.Who;
import coop.v1.AccountShare;
import coop.v1.AdminGrpc;
import coop.v1.AgentMessage;
import coop.v1.BackupRequest;
import coop.v1.CancelRequest;
import coop.v1.CertifyRequest;
import coop.v1.CoopProto;
import coop.v1.DelegateRequest;
import coop.v1.DrainRequest;
import coop.v1.EnrollRequest;
import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.GetPolicyRequest;
import coop.v1.GetProposalRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.Gpu;
import coop.v1.Hello;
import coop.v1.JobsGrpc;
import coop.v1.LedgerEntriesRequest;
import coop.v1.LedgerGrpc;
import coop.v1.LedgerHeadRequest;
import coop.v1.ListJobsRequest;
import coop.v1.ListMembersRequest;
import coop.v1.ListNodesRequest;
import coop.v1.ListPoliciesRequest;
import coop.v1.ListProposalsRequest;
import coop.v1.LogsRequest;
import coop.v1.NodesGrpc;
import coop.v1.ProposeRequest;
import coop.v1.RemoveNodeRequest;
import coop.v1.ReviewRequest;
import coop.v1.SchedulerMessage;
import coop.v1.SetTermsRequest;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.UsageRequest;
import coop.v1.VoteRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every RPC of coop.proto, called over gRPC through the real services and interceptors by every
 * kind of caller, with the status each must get. A refused call must leave the ledger, the jobs
 * and the nodes as they were. An RPC added to the proto without rows here fails
 * {@link #everyRpcOfTheProtoHasARowForEveryCaller}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizationMatrixTest {

    /** Prepares what one call needs (a job to cancel, a fresh node name) and returns the call. */
    interface Probe {
        RpcFixture.ThrowingRunnable prepare(Who who) throws Exception;
    }

    private record Row(Probe probe, Map<Who, Status.Code> expected) {
    }

    private Path dir;
    private RpcFixture f;
    private final Map<String, Row> rows = new LinkedHashMap<>();

    /** Every caller gets {@code code}, except as listed in pairs of (Who, Code). */
    private static Map<Who, Status.Code> all(Status.Code code, Object... exceptions) {
        Map<Who, Status.Code> m = new EnumMap<>(Who.class);
        for (Who w : Who.values()) {
            m.put(w, code);
        }
        for (int i = 0; i < exceptions.length; i += 2) {
            m.put((Who) exceptions[i], (Status.Code) exceptions[i + 1]);
        }
        return m;
    }

    /** A call any caller may make, read-only: only a stale identity (the removed member's token) is refused. */
    private static Map<Who, Status.Code> anyone() {
        return all(OK, REMOVED, UNAUTHENTICATED);
    }

    /** A member's call: anonymous callers, nodes and the removed member are not authenticated as members. */
    private static Map<Who, Status.Code> members(Object... codes) {
        Map<Who, Status.Code> m = all(PERMISSION_DENIED, ANONYMOUS, UNAUTHENTICATED, REMOVED, UNAUTHENTICATED,
                NODE_SELF, UNAUTHENTICATED, NODE_OTHER, UNAUTHENTICATED);
        for (int i = 0; i < codes.length; i += 2) {
            m.put((Who) codes[i], (Status.Code) codes[i + 1]);
        }
        return m;
    }

    private void row(String method, Map<Who, Status.Code> expected, Probe probe) {
        rows.put(method, new Row(probe, expected));
    }

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dir = tmp;
        f = new RpcFixture(dir);

        // ------------------------------------------------------------ Jobs
        // A researcher submits only to accounts it belongs to; other roles do not submit.
        row("coop.v1.Jobs/Submit", members(RESEARCHER, OK), who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                .submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setGpuModel("H100")
                        .setCommand("true").build()));
        row("coop.v1.Jobs/GetJob", anyone(), who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                .getJob(GetJobRequest.newBuilder().setJobId(f.runningJob).build()));
        row("coop.v1.Jobs/ListJobs", anyone(), who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                .listJobs(ListJobsRequest.getDefaultInstance()));
        // Its submitter, or an operator of its account; not a member of another account with every role.
        row("coop.v1.Jobs/Cancel", members(RESEARCHER, OK, OPERATOR, OK), who -> {
            long job = f.pendingJob("");
            return () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                    .cancel(CancelRequest.newBuilder().setJobId(job).build());
        });
        // A job's output is its account's (JobVisibility): lab-a's members read that of lab-a's job on n1
        // (lab-a's node too); other's roles are in lab-b, so it is refused; callers who are no member
        // are not authenticated as one.
        row("coop.v1.Jobs/Logs", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK), who -> () -> f.as(who,
                JobsGrpc.newBlockingStub(f.channel))
                .logs(LogsRequest.newBuilder().setJobId(f.runningJob).setRank(-1).build()).forEachRemaining(c -> {
                }));

        long array = f.pendingArray();
        row("coop.v1.Jobs/GetArray", anyone(), who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                .getArray(GetArrayRequest.newBuilder().setArrayId(array).build()));
        // As Cancel: its submitter, or an operator of its account.
        row("coop.v1.Jobs/CancelArray", members(RESEARCHER, OK, OPERATOR, OK), who -> {
            long fresh = f.pendingArray();
            return () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                    .cancelArray(GetArrayRequest.newBuilder().setArrayId(fresh).build());
        });

        // Every member has its own notification default, whatever its roles; a call changing nothing.
        row("coop.v1.Jobs/SetNotifyDefault", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK, OTHER_ACCOUNT, OK),
                who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                        .setNotifyDefault(coop.v1.NotifyDefault.getDefaultInstance()));
        row("coop.v1.Jobs/GetNotifyDefault", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK, OTHER_ACCOUNT, OK),
                who -> () -> f.as(who, JobsGrpc.newBlockingStub(f.channel))
                        .getNotifyDefault(coop.v1.GetNotifyDefaultRequest.getDefaultInstance()));

        // Those who may submit ship folders for their jobs; other's roles include researcher.
        String digest = "ab".repeat(32);
        row("coop.v1.Jobs/StatWorkdir", members(RESEARCHER, OK, OTHER_ACCOUNT, OK), who -> () -> f.as(who,
                JobsGrpc.newBlockingStub(f.channel)).statWorkdir(coop.v1.WorkdirRef.newBuilder().setDigest(digest)
                .setSizeBytes(10).build()));
        row("coop.v1.Jobs/UploadWorkdir", members(RESEARCHER, OK, OTHER_ACCOUNT, OK), who -> () -> {
            // A packed folder is gzip-compressed; this one holds the caller's name.
            var packed = new java.io.ByteArrayOutputStream();
            try (var z = new java.util.zip.GZIPOutputStream(packed)) {
                z.write(who.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            byte[] data = packed.toByteArray();
            String sha = java.util.HexFormat.of().formatHex(coop.scheduler.store.WorkdirBlobs.sha256().digest(data));
            CompletableFuture<coop.v1.WorkdirStat> reply = new CompletableFuture<>();
            StreamObserver<coop.v1.WorkdirChunk> up = f.as(who, JobsGrpc.newStub(f.channel))
                    .uploadWorkdir(new StreamObserver<>() {
                        @Override
                        public void onNext(coop.v1.WorkdirStat s) {
                            reply.complete(s);
                        }

                        @Override
                        public void onError(Throwable t) {
                            reply.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            up.onNext(coop.v1.WorkdirChunk.newBuilder().setDigest(sha).setSizeBytes(data.length)
                    .setData(com.google.protobuf.ByteString.copyFrom(data)).build());
            up.onCompleted();
            try {
                reply.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof StatusRuntimeException s ? s : e;
            }
        });

        // ------------------------------------------------------------ Governance
        // Only members with a vote propose, vote and delegate.
        row("coop.v1.Governance/Propose", members(MEMBER, OK, OTHER_ACCOUNT, OK), who -> () -> {
            ProposeRequest r = ProposeRequest.newBuilder().setTitle("even").setSignedAtMs(f.signedAt())
                    .setShares(SharesChange.newBuilder()
                            .addShares(AccountShare.newBuilder().setAccount("lab-a").setBasisPoints(5000))
                            .addShares(AccountShare.newBuilder().setAccount("lab-b").setBasisPoints(5000)))
                    .build();
            r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.propose(who.member(), r))).build();
            f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).propose(r);
        });
        row("coop.v1.Governance/Vote", members(MEMBER, OK, OTHER_ACCOUNT, OK), who -> {
            var p = f.keys.shares("delta", f.signedAt(), 0, Map.of("lab-a", 6000L, "lab-b", 4000L));
            long id = f.call((s, tx) -> s.propose("delta", p.statement(), p.signature(), tx)).id();
            return () -> {
                VoteRequest r = VoteRequest.newBuilder().setProposalId(id).setChoice(coop.v1.Choice.YES)
                        .setSignedAtMs(f.signedAt()).build();
                r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.ballot(who.member(), r))).build();
                f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).vote(r);
            };
        });
        row("coop.v1.Governance/ListProposals", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).listProposals(ListProposalsRequest.getDefaultInstance()));
        row("coop.v1.Governance/GetProposal", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).getProposal(GetProposalRequest.newBuilder()
                .setProposalId(1).build()));
        row("coop.v1.Governance/Delegate", members(MEMBER, OK, OTHER_ACCOUNT, OK), who -> () -> {
            DelegateRequest r = DelegateRequest.newBuilder().setTopic("shares").setTo("delta")
                    .setSignedAtMs(f.signedAt()).build();
            r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.delegate(who.member(), r))).build();
            f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).delegate(r);
        });
        // Any member may resign, whatever its roles: the reason here is too long, so the call passes the
        // authorization and stops at the statement's own check, and the fixture's members stay members.
        Map<Who, Status.Code> everyMember = members(RESEARCHER, INVALID_ARGUMENT, OPERATOR, INVALID_ARGUMENT, MEMBER,
                INVALID_ARGUMENT, OTHER_ACCOUNT, INVALID_ARGUMENT);
        row("coop.v1.Governance/Resign", everyMember, who -> () -> {
            coop.v1.ResignRequest r = coop.v1.ResignRequest.newBuilder().setReason("x".repeat(501))
                    .setSignedAtMs(f.signedAt()).build();
            r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.resign(who.member(), r))).build();
            f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).resign(r);
        });
        // Any member may answer a removal that names it; proposal 1 is a param proposal, which no one can answer.
        row("coop.v1.Governance/Respond", everyMember, who -> () -> {
            coop.v1.RespondRequest r = coop.v1.RespondRequest.newBuilder().setProposalId(1).setText("I object")
                    .setSignedAtMs(f.signedAt()).build();
            r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.respond(who.member(), r))).build();
            f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).respond(r);
        });
        // Only the members drawn onto a job's panel review it. The panel is one member drawn by lot
        // from those with a vote outside the submitter's account: for res's jobs (lab-a) other or
        // delta, for other's (lab-b) plain. Jobs are submitted until the draw puts the caller on
        // the panel (plain, other) or leaves it off (everyone else).
        Set<Who> drawn = EnumSet.of(MEMBER, OTHER_ACCOUNT);
        row("coop.v1.Governance/Review", members(MEMBER, OK, OTHER_ACCOUNT, OK), who -> {
            long job = 0;
            for (int tries = 0; tries < 200 && job == 0; tries++) {
                long id = who == MEMBER ? f.pendingJob("other", "lab-b", "dual-use") : f.pendingJob("dual-use");
                boolean onPanel = f.call((s, tx) -> s.panel(id)).drawn().contains(who.member());
                job = onPanel == drawn.contains(who) ? id : 0;
            }
            assertThat(job).as("a draw that suits " + who).isPositive();
            long id = job;
            return () -> {
                ReviewRequest r = ReviewRequest.newBuilder().setJobId(id).setApprove(true).setReason("fine")
                        .setSignedAtMs(f.signedAt()).build();
                r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.review(who.member(), r))).build();
                f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).review(r);
            };
        });
        // A member may report a job it may see: res's pending job in lab-a is seen by lab-a's members
        // (res, op, plain), not by other. Each caller reports a fresh job, which has no panel yet.
        row("coop.v1.Governance/Report", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK), who -> {
            long id = f.pendingJob("");
            return () -> {
                coop.v1.ReportRequest r = coop.v1.ReportRequest.newBuilder().setJobId(id).setConcern("looks off")
                        .setSignedAtMs(f.signedAt()).build();
                r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.report(who.member(), r))).build();
                f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).report(r);
            };
        });
        row("coop.v1.Governance/ListMembers", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).listMembers(ListMembersRequest.getDefaultInstance()));
        row("coop.v1.Governance/GetPolicy", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).getPolicy(GetPolicyRequest.getDefaultInstance()));
        row("coop.v1.Governance/ListPolicies", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).listPolicies(ListPoliciesRequest.getDefaultInstance()));
        row("coop.v1.Governance/Usage", anyone(), who -> () -> f.as(who,
                GovernanceGrpc.newBlockingStub(f.channel)).usage(UsageRequest.getDefaultInstance()));
        // The request is signed by the member the certificate is for, so anyone may pass it on.
        row("coop.v1.Governance/Certify", anyone(), who -> () -> {
            String key = RpcFixture.tlsPublicKey();
            long at = f.signedAt();
            String signature = f.keys.sign(Statements.certify(who.member(), at, key));
            f.as(who, GovernanceGrpc.newBlockingStub(f.channel)).certify(CertifyRequest.newBuilder()
                    .setMember(who.member()).setPublicKey(key).setSignedAtMs(at).setSignature(signature).build());
        });

        // ------------------------------------------------------------ Nodes
        // A node speaks only for itself; members are not nodes.
        row("coop.v1.Nodes/Connect", all(UNAUTHENTICATED, NODE_SELF, OK, NODE_OTHER, PERMISSION_DENIED),
                who -> () -> connect(who));
        // Only operators of the node's account enroll, drain, set the terms of and remove it.
        row("coop.v1.Nodes/Enroll", members(OPERATOR, OK), who -> {
            String name = f.fresh("e");
            return () -> f.as(who, NodesGrpc.newBlockingStub(f.channel)).enroll(EnrollRequest.newBuilder()
                    .setName(name).setSite("s1").setAccount("lab-a").build());
        });
        row("coop.v1.Nodes/Drain", members(OPERATOR, OK), who -> () -> f.as(who, NodesGrpc.newBlockingStub(f.channel))
                .drain(DrainRequest.newBuilder().setName("n3").setDrain(true).setReason("by " + who).build()));
        row("coop.v1.Nodes/SetTerms", members(OPERATOR, OK), who -> () -> f.as(who,
                NodesGrpc.newBlockingStub(f.channel)).setTerms(SetTermsRequest.newBuilder().setName("n3")
                .setReservedGpus(who.ordinal()).build()));
        row("coop.v1.Nodes/Remove", members(OPERATOR, OK), who -> {
            String name = f.fresh("r");
            f.call((s, tx) -> s.enroll("op", name, "s1", "lab-a", "0".repeat(64), tx));
            return () -> f.as(who, NodesGrpc.newBlockingStub(f.channel))
                    .remove(RemoveNodeRequest.newBuilder().setName(name).build());
        });
        // Only a node running a rank of the job reads its folder: n1 runs the job, not n2.
        row("coop.v1.Nodes/FetchWorkdir", all(UNAUTHENTICATED, NODE_SELF, PERMISSION_DENIED, NODE_OTHER,
                PERMISSION_DENIED), who -> () -> f.as(who, NodesGrpc.newBlockingStub(f.channel))
                .fetchWorkdir(coop.v1.FetchWorkdirRequest.newBuilder().setJobId(f.runningJob).setDigest(digest)
                        .build()).forEachRemaining(c -> {
                        }));
        row("coop.v1.Nodes/ListNodes", anyone(), who -> () -> f.as(who, NodesGrpc.newBlockingStub(f.channel))
                .listNodes(ListNodesRequest.getDefaultInstance()));

        // ------------------------------------------------------------ Ledger
        row("coop.v1.Ledger/Entries", anyone(), who -> () -> f.as(who, LedgerGrpc.newBlockingStub(f.channel))
                .entries(LedgerEntriesRequest.getDefaultInstance()).forEachRemaining(e -> {
                }));
        row("coop.v1.Ledger/Head", anyone(), who -> () -> f.as(who, LedgerGrpc.newBlockingStub(f.channel))
                .head(LedgerHeadRequest.getDefaultInstance()));
        // Any member may witness a recent head with its own key; callers who are no member may not.
        row("coop.v1.Ledger/Witness", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK, OTHER_ACCOUNT, OK), who -> {
            var head = f.call((s, tx) -> s.ledgerHead());
            long signedAt = f.signedAt();
            var statement = new coop.scheduler.ledger.SignedHead.Witness(who.member(), head.size() - 1, head.head(),
                    signedAt).statement();
            String signature = f.keys.sign(statement);
            return () -> f.as(who, LedgerGrpc.newBlockingStub(f.channel)).witness(coop.v1.WitnessRequest.newBuilder()
                    .setSeq(head.size() - 1).setHead(head.head()).setSignedAtMs(signedAt).setSignature(signature)
                    .build());
        });

        // ------------------------------------------------------------ Admin
        // Any member may see the replicas (this cooperative has none to list).
        row("coop.v1.Admin/Replicas", members(RESEARCHER, OK, OPERATOR, OK, MEMBER, OK, OTHER_ACCOUNT, OK),
                who -> () -> f.as(who, AdminGrpc.newBlockingStub(f.channel))
                        .replicas(coop.v1.ReplicasRequest.getDefaultInstance()));
        // Operators (of any account) back up; no one else.
        row("coop.v1.Admin/Backup", members(OPERATOR, OK, OTHER_ACCOUNT, OK), who -> {
            String name = f.fresh("backup-");
            Path to = f.backups.resolve(name);
            return () -> {
                try {
                    f.as(who, AdminGrpc.newBlockingStub(f.channel)).backup(BackupRequest.newBuilder()
                            .setTo(name).build());
                } finally {
                    assertThat(Files.exists(to)).as("a backup directory only when allowed")
                            .isEqualTo(who == OPERATOR || who == OTHER_ACCOUNT);
                }
            };
        });
    }

    /** Opens an agent stream as {@code who}; returns normally once welcomed, else throws the refusal. */
    private void connect(Who who) throws Exception {
        CompletableFuture<SchedulerMessage> first = new CompletableFuture<>();
        StreamObserver<AgentMessage> agent = f.as(who, NodesGrpc.newStub(f.channel)).connect(new StreamObserver<>() {
            @Override
            public void onNext(SchedulerMessage m) {
                first.complete(m);
            }

            @Override
            public void onError(Throwable t) {
                first.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                first.completeExceptionally(new AssertionError("stream ended without a welcome"));
            }
        });
        String node = who == NODE_OTHER ? "n1" : "n2";
        agent.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setNode(node).setSite("s1")
                .addGpus(Gpu.newBuilder().setIndex(0).setModel("T4").setMemoryMib(16384))).build());
        try {
            assertThat(first.get(5, TimeUnit.SECONDS).hasWelcome()).isTrue();
            agent.onCompleted();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException s ? s : e;
        }
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> eachCallerGetsTheExpectedStatusOnEachRpc() {
        List<DynamicTest> tests = new ArrayList<>();
        rows.forEach((method, row) -> row.expected().forEach((who, code) -> tests.add(DynamicTest.dynamicTest(
                method + " as " + who + " → " + code, () -> {
                    RpcFixture.ThrowingRunnable call = row.probe().prepare(who);
                    RpcFixture.Snapshot before = f.snapshot();
                    StatusRuntimeException refusal = RpcFixture.outcome(call);
                    Status.Code got = refusal == null ? OK : refusal.getStatus().getCode();
                    assertThat(got).as("%s as %s (%s)", method, who,
                            refusal == null ? "allowed" : refusal.getStatus().getDescription()).isEqualTo(code);
                    if (refusal != null) {
                        assertThat(f.snapshot()).as("state after a refused " + method).isEqualTo(before);
                    }
                }))));
        return tests.stream();
    }

    // ------------------------------------------------------------ what each caller sees of a job

    /** Who sees the command of lab-a's jobs: its members; not lab-b's, nor callers who are no member. */
    private static final Set<Who> SEES_LAB_A_COMMANDS = EnumSet.of(RESEARCHER, OPERATOR, MEMBER);

    @TestFactory
    Stream<DynamicTest> everyReadOfAJobShowsItsCommandOnlyToThoseTheRuleLetsReadIt() throws Exception {
        long array = f.pendingArray();
        List<DynamicTest> tests = new ArrayList<>();
        for (Who who : Who.values()) {
            if (who == REMOVED) {
                continue; // refused outright, as the matrix says
            }
            boolean sees = SEES_LAB_A_COMMANDS.contains(who);
            var jobs = f.as(who, JobsGrpc.newBlockingStub(f.channel));
            tests.add(DynamicTest.dynamicTest("GetJob as " + who + (sees ? " shows" : " withholds") + " the command",
                    () -> assertCommand(jobs.getJob(GetJobRequest.newBuilder().setJobId(f.runningJob).build()), sees)));
            tests.add(DynamicTest.dynamicTest("ListJobs as " + who + (sees ? " shows" : " withholds") + " commands",
                    () -> {
                        var listed = jobs.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList();
                        assertCommand(listed.stream().filter(j -> j.getId() == f.runningJob).findFirst().orElseThrow(),
                                sees);
                        if (!EnumSet.of(MEMBER, OTHER_ACCOUNT, RESEARCHER, OPERATOR).contains(who)) {
                            // No member: no command of any job, whatever other tests left.
                            listed.forEach(j -> assertCommand(j, false));
                        }
                    }));
            tests.add(DynamicTest.dynamicTest("GetArray as " + who + (sees ? " shows" : " withholds") + " the command",
                    () -> {
                        var a = jobs.getArray(GetArrayRequest.newBuilder().setArrayId(array).build());
                        assertThat(a.getCommand()).isEqualTo(sees ? "true" : "");
                        assertThat(a.getCommandWithheld()).isEqualTo(!sees);
                        assertThat(a.getTasks()).as("the rest is shown to all").isEqualTo(2);
                    }));
            tests.add(DynamicTest.dynamicTest("ListJobs of arrays as " + who + (sees ? " shows" : " withholds")
                    + " their commands", () -> {
                var arrays = jobs.listJobs(ListJobsRequest.newBuilder().setGroupArrays(true).build()).getArraysList();
                assertThat(arrays).isNotEmpty().allSatisfy(a -> {
                    assertThat(a.getCommand()).isEqualTo(sees ? "true" : "");
                    assertThat(a.getCommandWithheld()).isEqualTo(!sees);
                });
                var tasks = jobs.listJobs(ListJobsRequest.newBuilder().setArrayId(array).build()).getJobsList();
                assertThat(tasks).hasSize(2).allSatisfy(t -> assertCommand(t, sees));
            }));
        }
        return tests.stream();
    }

    /** The command shown (and not marked withheld), or withheld with every other field still there. */
    private static void assertCommand(coop.v1.Job job, boolean shown) {
        assertThat(job.getCommandWithheld()).as("job %d marked withheld", job.getId()).isEqualTo(!shown);
        if (shown) {
            assertThat(job.getCommand()).as("job %d's command", job.getId()).isNotEmpty();
        } else {
            assertThat(job.getCommand()).as("job %d's command", job.getId()).isEmpty();
        }
        assertThat(job.getAccount()).isEqualTo("lab-a");
        assertThat(job.getMember()).isEqualTo("res");
        assertThat(job.getGpusPerNode()).isEqualTo(1);
        assertThat(job.getSubmittedAtMs()).isPositive();
        assertThat(job.getState()).isNotEqualTo(coop.v1.JobState.JOB_STATE_UNSPECIFIED);
    }

    @Test
    void theOperatorsOfANodeThatRanAJobReadItsCommandAndOutputButNotTheirAccountsOtherMembers() throws Exception {
        // b1 is lab-b's node, enrolled by other (an operator of lab-b); lab-a's job asks for its V100.
        f.call((s, tx) -> s.enroll("other", "b1", "s1", "lab-b", Entry.sha256("secret-b1"), tx));
        List<SchedulerMessage> toB1 = new java.util.concurrent.CopyOnWriteArrayList<>();
        f.connectAgent("b1", "V100", 1, toB1);
        long job = f.call((s, tx) -> s.submit("res", new JobSpec("lab-a", 1, 1, "V100", 600,
                "echo lab-a-secret", 0, "", false, false), tx));
        await().atMost(java.time.Duration.ofSeconds(5)).until(() -> toB1.stream().anyMatch(m -> m.hasLaunch()
                && m.getLaunch().getRef().getJobId() == job));

        var asOperator = f.as(OTHER_ACCOUNT, JobsGrpc.newBlockingStub(f.channel));
        var got = asOperator.getJob(GetJobRequest.newBuilder().setJobId(job).build());
        assertThat(got.getCommand()).isEqualTo("echo lab-a-secret");
        assertThat(got.getCommandWithheld()).isFalse();
        List<coop.v1.LogChunk> chunks = new ArrayList<>();
        asOperator.logs(LogsRequest.newBuilder().setJobId(job).setRank(-1).build()).forEachRemaining(chunks::add);
        assertThat(chunks).extracting(c -> c.getStdout().toStringUtf8()).containsExactly("hi\n");
        assertThat(chunks.get(0).getNode()).isEqualTo("b1");

        // delta is a member of lab-b too, but operates nothing.
        var asMember = f.asMember("delta", JobsGrpc.newBlockingStub(f.channel));
        var seen = asMember.getJob(GetJobRequest.newBuilder().setJobId(job).build());
        assertThat(seen.getCommand()).isEmpty();
        assertThat(seen.getCommandWithheld()).isTrue();
        StatusRuntimeException refusal = RpcFixture.outcome(() -> asMember.logs(LogsRequest.newBuilder()
                .setJobId(job).setRank(-1).build()).forEachRemaining(c -> {
        }));
        assertThat(refusal).isNotNull();
        assertThat(refusal.getStatus().getCode()).isEqualTo(PERMISSION_DENIED);
        assertThat(refusal.getStatus().getDescription()).contains("member delta may not read the output of job "
                + job + " of account lab-a").contains("members of its account").contains("operators of the nodes");
    }

    @Test
    void aReviewPanelReadsTheCommandWhileTheJobIsInReviewAndNotAfter() throws Exception {
        long job = 0;
        for (int tries = 0; tries < 200 && job == 0; tries++) {
            long id = f.pendingJob("dual-use");
            job = f.call((s, tx) -> s.panel(id)).drawn().contains("other") ? id : 0;
        }
        assertThat(job).as("a draw that puts other on the panel").isPositive();
        long id = job;
        var panelist = f.as(OTHER_ACCOUNT, JobsGrpc.newBlockingStub(f.channel));
        var inReview = panelist.getJob(GetJobRequest.newBuilder().setJobId(id).build());
        assertThat(inReview.getState()).isEqualTo(coop.v1.JobState.REVIEW);
        assertThat(inReview.getCommand()).isEqualTo("true");
        assertThat(inReview.getCommandWithheld()).isFalse();
        // Its output may be read too; there is none before it starts.
        StatusRuntimeException noOutput = RpcFixture.outcome(() -> panelist.logs(LogsRequest.newBuilder()
                .setJobId(id).setRank(-1).build()).forEachRemaining(c -> {
        }));
        assertThat(noOutput.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        // delta, of the same account but not drawn, sees only the metadata.
        var notDrawn = f.asMember("delta", JobsGrpc.newBlockingStub(f.channel))
                .getJob(GetJobRequest.newBuilder().setJobId(id).build());
        assertThat(notDrawn.getCommandWithheld()).isTrue();
        assertThat(notDrawn.getWhyPending()).contains("panel");

        ReviewRequest r = ReviewRequest.newBuilder().setJobId(id).setApprove(true).setReason("fine")
                .setSignedAtMs(f.signedAt()).build();
        r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.review("other", r))).build();
        var approved = f.as(OTHER_ACCOUNT, GovernanceGrpc.newBlockingStub(f.channel)).review(r);
        assertThat(approved.getState()).isEqualTo(coop.v1.JobState.PENDING);
        assertThat(approved.getCommandWithheld()).as("the review is over, and with it the panel's access").isTrue();
        assertThat(panelist.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getCommandWithheld()).isTrue();
    }

    @Test
    void everyRpcOfTheProtoHasARowForEveryCaller() {
        Set<String> methods = new TreeSet<>();
        for (Descriptors.ServiceDescriptor s : CoopProto.getDescriptor().getServices()) {
            s.getMethods().forEach(m -> methods.add(s.getFullName() + "/" + m.getName()));
        }
        assertThat(rows.keySet()).as("rows of the matrix, by RPC").containsExactlyInAnyOrderElementsOf(methods);
        rows.forEach((method, row) -> assertThat(row.expected().keySet()).as("callers of " + method)
                .containsExactlyInAnyOrder(Who.values()));
    }

    @Test
    void aRefusalIsNotAllTheTableSays() {
        // The table would pass vacuously if every call failed the same way: some of each must be allowed.
        assertThat(rows.values().stream().flatMap(r -> r.expected().values().stream()).filter(c -> c == OK))
                .hasSizeGreaterThan(40);
    }
}
