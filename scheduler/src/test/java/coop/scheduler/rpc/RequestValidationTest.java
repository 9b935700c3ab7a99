package coop.scheduler.rpc;

import static coop.scheduler.rpc.RpcFixture.Who.MEMBER;
import static coop.scheduler.rpc.RpcFixture.Who.NODE_SELF;
import static coop.scheduler.rpc.RpcFixture.Who.OPERATOR;
import static coop.scheduler.rpc.RpcFixture.Who.RESEARCHER;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.ProposalKind;
import coop.scheduler.governance.Statements;
import coop.scheduler.rpc.RpcFixture.Who;
import coop.v1.AccountChange;
import coop.v1.AccountShare;
import coop.v1.AdminGrpc;
import coop.v1.AgentMessage;
import coop.v1.Admission;
import coop.v1.Amendment;
import coop.v1.BackupRequest;
import coop.v1.CancelRequest;
import coop.v1.CertifyRequest;
import coop.v1.DelegateRequest;
import coop.v1.DrainRequest;
import coop.v1.EnrollRequest;
import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.GetPolicyRequest;
import coop.v1.GetProposalRequest;
import coop.v1.Gpu;
import coop.v1.GovernanceGrpc;
import coop.v1.Hello;
import coop.v1.JobState;
import coop.v1.JobsGrpc;
import coop.v1.LedgerEntriesRequest;
import coop.v1.LedgerGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.LogsRequest;
import coop.v1.NodesGrpc;
import coop.v1.ParamChange;
import coop.v1.ProposeRequest;
import coop.v1.Removal;
import coop.v1.RemoveNodeRequest;
import coop.v1.ReviewRequest;
import coop.v1.SchedulerMessage;
import coop.v1.SetTermsRequest;
import coop.v1.ShareBudget;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import coop.v1.VoteRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each field of each request, given a bad value by a caller allowed to make the call: the
 * refusal's code, and its message, which starts with the field and states the rule. A refused
 * request leaves the ledger, the jobs and the nodes as they were.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestValidationTest {
    private static final long MAX_WALLTIME_S = 14 * 24 * 3600;

    private record Case(String name, RpcFixture.ThrowingRunnable call, Status.Code code, String prefix) {
    }

    private RpcFixture f;
    private long openProposal;
    private long reviewJob;
    private final List<Case> cases = new ArrayList<>();

    private void bad(String request, String field, Object value, Status.Code code, String prefix,
                     RpcFixture.ThrowingRunnable call) {
        String shown = String.valueOf(value);
        cases.add(new Case(request + "." + field + " = " + (shown.length() > 30 ? shown.substring(0, 30) + "…" : shown),
                call, code, prefix));
    }

    private void invalid(String request, String field, Object value, String prefix, RpcFixture.ThrowingRunnable call) {
        bad(request, field, value, INVALID_ARGUMENT, prefix, call);
    }

    private JobsGrpc.JobsBlockingStub jobs(Who who) {
        return f.as(who, JobsGrpc.newBlockingStub(f.channel));
    }

    private GovernanceGrpc.GovernanceBlockingStub governance(Who who) {
        return f.as(who, GovernanceGrpc.newBlockingStub(f.channel));
    }

    private NodesGrpc.NodesBlockingStub nodes(Who who) {
        return f.as(who, NodesGrpc.newBlockingStub(f.channel));
    }

    private SubmitResponse submit(UnaryOperator<SubmitRequest.Builder> change) {
        return jobs(RESEARCHER).submit(change.apply(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setGpuModel("H100").setCommand("true")).build());
    }

    /** Proposes as plain, signed. */
    private void propose(UnaryOperator<ProposeRequest.Builder> change) {
        ProposeRequest r = change.apply(ProposeRequest.newBuilder().setSignedAtMs(f.signedAt())
                .setShares(SharesChange.newBuilder().addShares(share("lab-a", 5000)).addShares(share("lab-b", 5000))))
                .build();
        if (r.getSignature().isEmpty()) {
            ProposeRequest unsigned = r;
            r = r.toBuilder().setSignature(signed(() -> SignedStatements.propose("plain", unsigned))).build();
        }
        governance(MEMBER).propose(r);
    }

    /**
     * The signature of the statement a request stands for; when the client cannot even build
     * that statement (the bad field is caught on its side too), a placeholder, so that the
     * request still goes out and the scheduler's own check is what refuses it.
     */
    private String signed(java.util.function.Supplier<java.util.SortedMap<String, Object>> statement) {
        try {
            return f.keys.sign(statement.get());
        } catch (RuntimeException e) {
            return "unsigned";
        }
    }

    private static AccountShare share(String account, int bp) {
        return AccountShare.newBuilder().setAccount(account).setBasisPoints(bp).build();
    }

    private void vote(UnaryOperator<VoteRequest.Builder> change) {
        VoteRequest r = change.apply(VoteRequest.newBuilder().setProposalId(openProposal).setChoice(coop.v1.Choice.YES)
                .setSignedAtMs(f.signedAt())).build();
        VoteRequest unsigned = r;
        r = r.toBuilder().setSignature(signed(() -> SignedStatements.ballot("plain", unsigned))).build();
        governance(MEMBER).vote(r);
    }

    private void delegate(String topic, String to) {
        DelegateRequest r = DelegateRequest.newBuilder().setTopic(topic).setTo(to).setSignedAtMs(f.signedAt()).build();
        DelegateRequest unsigned = r;
        r = r.toBuilder().setSignature(signed(() -> SignedStatements.delegate("plain", unsigned))).build();
        governance(MEMBER).delegate(r);
    }

    private void review(long job, String reason) {
        ReviewRequest r = ReviewRequest.newBuilder().setJobId(job).setApprove(true).setReason(reason)
                .setSignedAtMs(f.signedAt()).build();
        r = r.toBuilder().setSignature(f.keys.sign(SignedStatements.review("plain", r))).build();
        governance(MEMBER).review(r);
    }

    private void certify(String member, String key, String signature) throws Exception {
        long at = f.signedAt();
        String sig = signature != null ? signature : signed(() -> Statements.certify(member, at, key));
        governance(MEMBER).certify(CertifyRequest.newBuilder().setMember(member).setPublicKey(key).setSignedAtMs(at)
                .setSignature(sig).build());
    }

    private void setTerms(UnaryOperator<SetTermsRequest.Builder> change) {
        nodes(OPERATOR).setTerms(change.apply(SetTermsRequest.newBuilder().setName("n3")).build());
    }

    /** Says hello as node n2 with the given changes to a valid hello; throws the refusal. */
    private void hello(UnaryOperator<Hello.Builder> change) throws Exception {
        CompletableFuture<SchedulerMessage> first = new CompletableFuture<>();
        StreamObserver<AgentMessage> agent = f.as(NODE_SELF, NodesGrpc.newStub(f.channel)).connect(new StreamObserver<>() {
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
                first.completeExceptionally(new AssertionError("stream ended"));
            }
        });
        agent.onNext(AgentMessage.newBuilder().setHello(change.apply(Hello.newBuilder().setNode("n2").setSite("s1")
                .addGpus(Gpu.newBuilder().setIndex(0).setModel("T4").setMemoryMib(16384)))).build());
        try {
            first.get(5, TimeUnit.SECONDS);
            agent.onCompleted();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException s ? s : e;
        }
    }

    private static Hello.Builder gpus(Hello.Builder h, int count) {
        h.clearGpus();
        for (int i = 0; i < count; i++) {
            h.addGpus(Gpu.newBuilder().setIndex(i).setModel("T4").setMemoryMib(16384));
        }
        return h;
    }

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        f = new RpcFixture(dir);
        var p = f.keys.shares("delta", f.signedAt(), 0, Map.of("lab-a", 6000L, "lab-b", 4000L));
        openProposal = f.call((s, tx) -> s.propose("delta", p.statement(), p.signature(), tx)).id();
        // plain (lab-a) is the one voter outside other's account lab-b: its panel.
        reviewJob = f.pendingJob("other", "lab-b", "dual-use");
        assertThat(f.call((s, tx) -> s.panel(reviewJob)).drawn()).as("a job whose panel is plain")
                .containsExactly("plain");

        // ------------------------------------------------------------ Jobs/Submit
        invalid("Submit", "account", "", "account: is required", () -> submit(b -> b.setAccount("")));
        invalid("Submit", "account", "Lab A", "account: 'Lab A' must match", () -> submit(b -> b.setAccount("Lab A")));
        invalid("Submit", "account", "nope", "account: no open account named 'nope'",
                () -> submit(b -> b.setAccount("nope")));
        invalid("Submit", "gpus_per_node", 0, "gpus_per_node: must be between 1 and 64",
                () -> submit(b -> b.setGpusPerNode(0)));
        invalid("Submit", "gpus_per_node", 65, "gpus_per_node: must be between 1 and 64",
                () -> submit(b -> b.setGpusPerNode(65)));
        invalid("Submit", "nodes", 0, "nodes: must be between 1 and 256, got 0", () -> submit(b -> b.setNodes(0)));
        invalid("Submit", "nodes", -1, "nodes: must be between 1 and 256", () -> submit(b -> b.setNodes(-1)));
        invalid("Submit", "nodes", 257, "nodes: must be between 1 and 256", () -> submit(b -> b.setNodes(257)));
        invalid("Submit", "gpu_model", "A100;rm", "gpu_model: 'A100;rm' must be up to 8 comma-separated models",
                () -> submit(b -> b.setGpuModel("A100;rm")));
        invalid("Submit", "gpu_model", "9 models", "gpu_model:",
                () -> submit(b -> b.setGpuModel(String.join(",", Collections.nCopies(9, "A100")))));
        invalid("Submit", "walltime_seconds", -5, "walltime_seconds: must be between 1 and " + MAX_WALLTIME_S,
                () -> submit(b -> b.setWalltimeSeconds(-5)));
        invalid("Submit", "walltime_seconds", MAX_WALLTIME_S + 1, "walltime_seconds: must be between 1 and "
                + MAX_WALLTIME_S + " (the policy's max_walltime_s)", () -> submit(b -> b.setWalltimeSeconds(
                MAX_WALLTIME_S + 1)));
        invalid("Submit", "command", "", "command: is required", () -> submit(b -> b.setCommand("")));
        invalid("Submit", "command", "64 KiB + 1", "command: must be at most 64 KiB",
                () -> submit(b -> b.setCommand("x".repeat(64 * 1024 + 1))));
        // 32769 characters, but 65538 bytes: the limit is on bytes.
        invalid("Submit", "command", "32769 × é", "command: must be at most 64 KiB",
                () -> submit(b -> b.setCommand("é".repeat(32 * 1024 + 1))));
        invalid("Submit", "command", "NUL", "command: must not contain NUL", () -> submit(b -> b.setCommand("a\0b")));
        invalid("Submit", "priority", 1001, "priority: must be between -1000 and 1000",
                () -> submit(b -> b.setPriority(1001)));
        invalid("Submit", "name", "129 chars", "name: must be at most 128 printable characters",
                () -> submit(b -> b.setName("n".repeat(129))));
        invalid("Submit", "name", "a\\nb", "name: must be at most 128 printable characters",
                () -> submit(b -> b.setName("a\nb")));
        invalid("Submit", "purpose", "Dual Use", "purpose: 'Dual Use' must match",
                () -> submit(b -> b.setPurpose("Dual Use")));

        invalid("Submit", "array", "-1", "array: '-1' is not an index", () -> submit(b -> b.setArray("-1")));
        invalid("Submit", "array", "1,1", "array: index 1 appears more than once",
                () -> submit(b -> b.setArray("1,1")));
        invalid("Submit", "array", "0-10000", "array: at most 10000 tasks", () -> submit(b -> b.setArray("0-10000")));
        invalid("Submit", "array", "0-2147483647", "array: index 2147483647 is beyond the largest allowed index, 999999",
                () -> submit(b -> b.setArray("0-2147483647")));
        invalid("Submit", "array", "9-2", "array: range 9-2 ends before it starts",
                () -> submit(b -> b.setArray("9-2")));

        // ------------------------------------------------------------ Jobs, by id
        invalid("GetJob", "job_id", 0, "job_id: must be a positive id",
                () -> jobs(MEMBER).getJob(GetJobRequest.newBuilder().setJobId(0).build()));
        bad("GetJob", "job_id", 999_999, NOT_FOUND, "job 999999 not found",
                () -> jobs(MEMBER).getJob(GetJobRequest.newBuilder().setJobId(999_999).build()));
        invalid("Cancel", "job_id", -1, "job_id: must be a positive id",
                () -> jobs(RESEARCHER).cancel(CancelRequest.newBuilder().setJobId(-1).build()));
        bad("Cancel", "job_id", 999_999, NOT_FOUND, "job 999999 not found",
                () -> jobs(RESEARCHER).cancel(CancelRequest.newBuilder().setJobId(999_999).build()));
        invalid("GetArray", "array_id", 0, "array_id: must be a positive id",
                () -> jobs(MEMBER).getArray(GetArrayRequest.newBuilder().setArrayId(0).build()));
        bad("GetArray", "array_id", 999_999, NOT_FOUND, "job array 999999 not found",
                () -> jobs(MEMBER).getArray(GetArrayRequest.newBuilder().setArrayId(999_999).build()));
        invalid("CancelArray", "array_id", -1, "array_id: must be a positive id",
                () -> jobs(RESEARCHER).cancelArray(GetArrayRequest.newBuilder().setArrayId(-1).build()));
        invalid("ListJobs", "array_id", -1, "array_id: must be 0 (any job) or an array's id",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setArrayId(-1).build()));
        invalid("Logs", "job_id", 0, "job_id: must be a positive id",
                () -> jobs(MEMBER).logs(LogsRequest.newBuilder().setJobId(0).build()).forEachRemaining(c -> {
                }));
        bad("Logs", "job_id", 999_999, NOT_FOUND, "job 999999 not found",
                () -> jobs(MEMBER).logs(LogsRequest.newBuilder().setJobId(999_999).build()).forEachRemaining(c -> {
                }));
        invalid("Logs", "rank", -2, "rank: must be -1 (every rank) or a rank of the job",
                () -> jobs(MEMBER).logs(LogsRequest.newBuilder().setJobId(f.runningJob).setRank(-2).build())
                        .forEachRemaining(c -> {
                        }));
        invalid("Logs", "rank", 5, "rank: job " + f.runningJob + " has ranks 0..0",
                () -> jobs(MEMBER).logs(LogsRequest.newBuilder().setJobId(f.runningJob).setRank(5).build())
                        .forEachRemaining(c -> {
                        }));
        invalid("ListJobs", "account", "Lab", "account: 'Lab' must match",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setAccount("Lab").build()));
        bad("ListJobs", "account", "nope", NOT_FOUND, "no account named 'nope'",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setAccount("nope").build()));
        invalid("ListJobs", "limit", -1, "limit: must be 0 (the default page) or more",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setLimit(-1).build()));
        invalid("ListJobs", "page_size", -1, "page_size: must be 0 (the default, 500) or more",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setPageSize(-1).build()));
        invalid("ListJobs", "page_token", "x7", "page_token: 'x7' is not a token a listing gave",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setPageToken("x7").build()));
        invalid("ListJobs", "page_token", "0", "page_token: '0' is not a token a listing gave",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setPageToken("0").build()));
        invalid("ListJobs", "page_token", "20 digits", "page_token: '99999999999999999999' is not a token",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setPageToken("99999999999999999999")
                        .build()));
        invalid("ListJobs", "member", "Bob", "member: 'Bob' must match",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setMember("Bob").build()));
        bad("ListJobs", "member", "nobody", NOT_FOUND, "no member named 'nobody'",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setMember("nobody").build()));
        invalid("ListJobs", "finished_since_ms", -1, "finished_since_ms: must be 0 (any job) or a time",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().setFinishedSinceMs(-1).build()));
        invalid("ListJobs", "states", "UNSPECIFIED", "states: unknown job state",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder().addStates(JobState.JOB_STATE_UNSPECIFIED)
                        .build()));
        invalid("ListJobs", "states", "8 states", "states: at most 7 states",
                () -> jobs(MEMBER).listJobs(ListJobsRequest.newBuilder()
                        .addAllStates(Collections.nCopies(8, JobState.PENDING)).build()));

        // ------------------------------------------------------------ Governance/Propose
        invalid("Propose", "title", "201 chars", "title: must be at most 200 printable characters",
                () -> propose(b -> b.setTitle("t".repeat(201))));
        invalid("Propose", "closes_in_seconds", -1, "closes_in_seconds: must be between 1 and",
                () -> propose(b -> b.setClosesInSeconds(-1)));
        invalid("Propose", "kind", "none", "kind: a proposal needs a kind", () -> propose(ProposeRequest.Builder::clearKind));
        invalid("Propose", "shares", "90%", "shares: must sum to 100%, got 90",
                () -> propose(b -> b.setShares(SharesChange.newBuilder().addShares(share("lab-a", 4000))
                        .addShares(share("lab-b", 5000)))));
        invalid("Propose", "shares", "unknown account", "shares: unknown account 'lab-z'",
                () -> propose(b -> b.setShares(SharesChange.newBuilder().addShares(share("lab-a", 5000))
                        .addShares(share("lab-b", 4000)).addShares(share("lab-z", 1000)))));
        invalid("Propose", "shares", "twice", "shares: account 'lab-a' appears twice",
                () -> propose(b -> b.setShares(SharesChange.newBuilder().addShares(share("lab-a", 5000))
                        .addShares(share("lab-a", 5000)))));
        invalid("Propose", "shares", "negative", "shares[lab-a]: must not be negative",
                () -> propose(b -> b.setShares(SharesChange.newBuilder().addShares(share("lab-a", -5000))
                        .addShares(share("lab-b", 15000)))));
        invalid("Propose", "param.values", "bogus", "params.bogus: unknown parameter",
                () -> propose(b -> b.setParam(ParamChange.newBuilder().putValues("bogus", 1))));
        invalid("Propose", "param.values", "max_walltime_s=10", "params.max_walltime_s: must be a whole number of "
                + "seconds between 60 and", () -> propose(b -> b.setParam(ParamChange.newBuilder()
                .putValues("max_walltime_s", 10))));
        invalid("Propose", "param.values", "max_pending_per_member=-1", "params.max_pending_per_member: must be a "
                + "whole number of jobs between 0 and", () -> propose(b -> b.setParam(ParamChange.newBuilder()
                .putValues("max_pending_per_member", -1))));
        invalid("Propose", "param.values", "none", "params: set at least one parameter",
                () -> propose(b -> b.setParam(ParamChange.getDefaultInstance())));
        invalid("Propose", "param.panel_purposes", "33", "params.panel_purposes: must be a list of at most 32",
                () -> propose(b -> b.setParam(ParamChange.newBuilder().setSetPanelPurposes(true)
                        .addAllPanelPurposes(Collections.nCopies(33, "x")))));
        invalid("Propose", "admit.name", "X", "name: 'X' must match",
                () -> propose(b -> b.setAdmit(admission().setName("X"))));
        bad("Propose", "admit.name", "res", Status.Code.ALREADY_EXISTS, "name: 'res' is or was already a member",
                () -> propose(b -> b.setAdmit(admission().setName("res"))));
        invalid("Propose", "admit.accounts", "twice", "accounts: at most 64 accounts, each named once",
                () -> propose(b -> b.setAdmit(admission().addAccounts("lab-a"))));
        invalid("Propose", "admit.accounts", "nope", "admit.accounts: no open account named 'nope'",
                () -> propose(b -> b.setAdmit(admission().clearAccounts().addAccounts("nope"))));
        invalid("Propose", "admit.roles", "chief", "admit.roles: unknown role 'chief'",
                () -> propose(b -> b.setAdmit(admission().addRoles("chief"))));
        invalid("Propose", "admit.roles", "twice", "roles: each of member, researcher, operator at most once",
                () -> propose(b -> b.setAdmit(admission().addRoles("member"))));
        invalid("Propose", "admit.public_key", "junk", "admit.public_key:",
                () -> propose(b -> b.setAdmit(admission().setPublicKey("junk"))));
        invalid("Propose", "admit.token_sha256", "short", "admit.token_sha256: must be 64 lower-case hex digits",
                () -> propose(b -> b.setAdmit(admission().setTokenSha256("abc"))));
        invalid("Propose", "remove.name", "nobody", "name: 'nobody' is not a member",
                () -> propose(b -> b.setRemove(Removal.newBuilder().setName("nobody"))));
        invalid("Propose", "account.action", "open", "action: must be create or close, got 'open'",
                () -> propose(b -> b.setAccount(AccountChange.newBuilder().setAction("open").setName("lab-c"))));
        invalid("Propose", "account.name", "Lab C", "name: 'Lab C' must match",
                () -> propose(b -> b.setAccount(AccountChange.newBuilder().setAction("create").setName("Lab C"))));
        invalid("Propose", "amend.every_member_votes", "maybe", "every_member_votes: must be true or false",
                () -> propose(b -> b.setAmend(Amendment.newBuilder().setEveryMemberVotes("maybe"))));
        invalid("Propose", "amend.ordinary", "1/3", "amend.ordinary: must be at least 1/2",
                () -> propose(b -> b.setAmend(Amendment.newBuilder().setOrdinary("1/3"))));
        invalid("Propose", "amend.floors", "nope", "amend.floors.nope: no open account of that name",
                () -> propose(b -> b.setAmend(Amendment.newBuilder().addFloors(share("nope", 100)))));
        invalid("Propose", "signature", "257 chars", "signature: must be at most 256 characters",
                () -> propose(b -> b.setShareBudget(ShareBudget.getDefaultInstance()).setSignature("s".repeat(257))));

        // ------------------------------------------------------------ Governance: ballots, delegations, reviews
        invalid("Vote", "proposal_id", 0, "proposal_id: must be a positive id", () -> vote(b -> b.setProposalId(0)));
        bad("Vote", "proposal_id", 99_999, NOT_FOUND, "proposal 99999 not found",
                () -> vote(b -> b.setProposalId(99_999)));
        invalid("Vote", "choice", "unset", "choice: must be yes, no or abstain",
                () -> vote(b -> b.setChoice(coop.v1.Choice.CHOICE_UNSPECIFIED)));
        invalid("Vote", "split", "on a shares proposal", "choice: give either a choice or a split",
                () -> vote(b -> b.addSplit(share("lab-a", 10000))));
        invalid("Vote", "split", "twice", "split: account 'lab-a' appears twice",
                () -> vote(b -> b.setChoice(coop.v1.Choice.CHOICE_UNSPECIFIED).addSplit(share("lab-a", 5000))
                        .addSplit(share("lab-a", 5000))));
        invalid("Delegate", "topic", "jobs", "topic: unknown topic 'jobs'", () -> delegate("jobs", "delta"));
        invalid("Delegate", "to", "nobody", "to: 'nobody' is not a member with a vote",
                () -> delegate("shares", "nobody"));
        invalid("Delegate", "to", "plain", "to: a member cannot delegate to itself", () -> delegate("shares", "plain"));
        invalid("Review", "job_id", 0, "job_id: must be a positive id", () -> review(0, "fine"));
        bad("Review", "job_id", 999_999, NOT_FOUND, "job 999999 not found", () -> review(999_999, "fine"));
        bad("Review", "job_id", "a job without a panel", NOT_FOUND, "job " + f.runningJob + " has no open review panel",
                () -> review(f.runningJob, "fine"));
        invalid("Review", "reason", "501 chars", "reason: must be at most 500 printable characters",
                () -> review(reviewJob, "r".repeat(501)));
        invalid("GetProposal", "proposal_id", 0, "proposal_id: must be a positive id",
                () -> governance(MEMBER).getProposal(GetProposalRequest.newBuilder().setProposalId(0).build()));
        bad("GetProposal", "proposal_id", 99_999, NOT_FOUND, "proposal 99999 not found",
                () -> governance(MEMBER).getProposal(GetProposalRequest.newBuilder().setProposalId(99_999).build()));
        invalid("GetPolicy", "version", -1, "version: must be 0 (the live policy) or a policy version",
                () -> governance(MEMBER).getPolicy(GetPolicyRequest.newBuilder().setVersion(-1).build()));
        bad("GetPolicy", "version", 99, NOT_FOUND, "policy version 99 not found",
                () -> governance(MEMBER).getPolicy(GetPolicyRequest.newBuilder().setVersion(99).build()));
        String key = RpcFixture.tlsPublicKey();
        invalid("Certify", "member", "Plain", "member: 'Plain' must match", () -> certify("Plain", key, null));
        bad("Certify", "member", "nobody", NOT_FOUND, "no member named 'nobody'", () -> certify("nobody", key, "x"));
        bad("Certify", "member", "gone", NOT_FOUND, "no member named 'gone'", () -> certify("gone", key, null));
        invalid("Certify", "public_key", "junk", "public_key: must be an EC public key in PEM",
                () -> certify("plain", "junk", null));
        invalid("Certify", "public_key", "4097 chars", "public_key: must be at most 4096 characters",
                () -> certify("plain", "k".repeat(4097), null));
        invalid("Certify", "signature", "another's", "signature: is not plain's signature",
                () -> certify("plain", key, f.keys.sign(Statements.certify("delta", 1, key))));

        // ------------------------------------------------------------ Nodes
        invalid("Enroll", "name", "N1", "name: 'N1' must match", () -> nodes(OPERATOR).enroll(EnrollRequest
                .newBuilder().setName("N1").setSite("s1").setAccount("lab-a").build()));
        invalid("Enroll", "site", "", "site: is required", () -> nodes(OPERATOR).enroll(EnrollRequest.newBuilder()
                .setName("n9").setAccount("lab-a").build()));
        invalid("Enroll", "account", "nope", "account: no open account named 'nope'", () -> nodes(OPERATOR)
                .enroll(EnrollRequest.newBuilder().setName("n9").setSite("s1").setAccount("nope").build()));
        invalid("Drain", "name", "N3", "name: 'N3' must match", () -> nodes(OPERATOR).drain(DrainRequest.newBuilder()
                .setName("N3").setDrain(true).build()));
        bad("Drain", "name", "ghost", NOT_FOUND, "node ghost is not enrolled", () -> nodes(OPERATOR).drain(
                DrainRequest.newBuilder().setName("ghost").setDrain(true).build()));
        invalid("Drain", "reason", "201 chars", "reason: must be at most 200 printable characters",
                () -> nodes(OPERATOR).drain(DrainRequest.newBuilder().setName("n3").setDrain(true)
                        .setReason("r".repeat(201)).build()));
        bad("SetTerms", "name", "ghost", NOT_FOUND, "node ghost is not enrolled", () -> setTerms(b -> b.setName("ghost")));
        invalid("SetTerms", "reserved_gpus", -1, "reserved_gpus: must be 0 or more", () -> setTerms(b -> b
                .setReservedGpus(-1)));
        invalid("SetTerms", "reserved_gpus", 1025, "reserved_gpus: must be at most 1024", () -> setTerms(b -> b
                .setReservedGpus(1025)));
        invalid("SetTerms", "windows", "15 windows", "window: at most 14 windows per node", () -> setTerms(b -> b
                .setSetWindows(true).addAllWindows(Collections.nCopies(15, "Sat"))));
        invalid("SetTerms", "windows", "Funday", "window: 'Funday'", () -> setTerms(b -> b.setSetWindows(true)
                .addWindows("Funday")));
        invalid("SetTerms", "windows", "65 chars", "windows: each window must be at most 64 characters",
                () -> setTerms(b -> b.setSetWindows(true).addWindows("Sat" + " ".repeat(62))));
        invalid("SetTerms", "time_zone", "Mars/Base", "time_zone: 'Mars/Base' is not a time zone",
                () -> setTerms(b -> b.setTimeZone("Mars/Base")));
        invalid("SetTerms", "time_zone", "65 chars", "time_zone: must be at most 64 characters",
                () -> setTerms(b -> b.setTimeZone("z".repeat(65))));
        invalid("Remove", "name", "", "name: is required", () -> nodes(OPERATOR).remove(RemoveNodeRequest
                .getDefaultInstance()));
        bad("Remove", "name", "ghost", NOT_FOUND, "node ghost is not enrolled", () -> nodes(OPERATOR).remove(
                RemoveNodeRequest.newBuilder().setName("ghost").build()));
        invalid("Connect", "hello.gpus", "none", "hello.gpus: a node must report at least one GPU",
                () -> hello(h -> gpus(h, 0)));
        invalid("Connect", "hello.gpus", "65", "hello.gpus: a node may report at most 64 GPUs",
                () -> hello(h -> gpus(h, 65)));
        invalid("Connect", "hello.gpus", "index twice", "hello.gpus: GPU indices must be unique",
                () -> hello(h -> h.addGpus(Gpu.newBuilder().setIndex(0).setModel("T4"))));
        invalid("Connect", "hello.gpus.index", -1, "hello.gpus.index: must be between 0 and 1023",
                () -> hello(h -> h.setGpus(0, Gpu.newBuilder().setIndex(-1).setModel("T4"))));
        invalid("Connect", "hello.gpus.model", "A 100", "hello.gpus.model: 'A 100' must match",
                () -> hello(h -> h.setGpus(0, Gpu.newBuilder().setIndex(0).setModel("A 100"))));
        invalid("Connect", "hello.gpus.memory_mib", -1, "hello.gpus.memory_mib: must not be negative",
                () -> hello(h -> h.setGpus(0, Gpu.newBuilder().setIndex(0).setModel("T4").setMemoryMib(-1))));
        invalid("Connect", "hello.address", "bad host!", "hello.address: must be a host name or IP address",
                () -> hello(h -> h.setAddress("bad host!")));
        invalid("Connect", "hello.version", "65 chars", "hello.version: must be at most 64 characters",
                () -> hello(h -> h.setVersion("v".repeat(65))));

        // ------------------------------------------------------------ Ledger, Admin
        invalid("Entries", "from_seq", -1, "from_seq: must not be negative", () -> f.as(MEMBER,
                LedgerGrpc.newBlockingStub(f.channel)).entries(LedgerEntriesRequest.newBuilder().setFromSeq(-1)
                .build()).forEachRemaining(e -> {
                }));
        invalid("Backup", "to", "", "to: required", () -> f.as(OPERATOR, AdminGrpc.newBlockingStub(f.channel))
                .backup(BackupRequest.getDefaultInstance()));
        invalid("Backup", "to", "../up", "to: must not contain '..'", () -> f.as(OPERATOR,
                AdminGrpc.newBlockingStub(f.channel)).backup(BackupRequest.newBuilder().setTo("../up").build()));
        invalid("Backup", "to", "the data directory", "to: '" + f.dir.resolve("data").resolve("inside")
                + "' is outside the backup root", () -> f.as(OPERATOR, AdminGrpc.newBlockingStub(f.channel))
                .backup(BackupRequest.newBuilder().setTo(f.dir.resolve("data").resolve("inside").toString()).build()));
        invalid("Backup", "to", "the root", "to: names the backup root itself", () -> f.as(OPERATOR,
                AdminGrpc.newBlockingStub(f.channel)).backup(BackupRequest.newBuilder().setTo(".").build()));
    }

    private Admission.Builder admission() {
        return Admission.newBuilder().setName("newcomer").addAccounts("lab-a").addRoles("member")
                .setPublicKey(f.keys.publicKey("newcomer")).setTokenSha256("a".repeat(64));
    }

    @AfterAll
    void stop() {
        if (f != null) {
            f.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> aBadFieldIsRefusedNamingTheFieldAndTheRuleAndNothingIsStored() {
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name() + " → " + c.code() + " " + c.prefix(), () -> {
            RpcFixture.Snapshot before = f.snapshot();
            StatusRuntimeException refusal = RpcFixture.outcome(c.call());
            assertThat(refusal).as(c.name() + " must be refused").isNotNull();
            assertThat(refusal.getStatus().getCode()).as(refusal.getStatus().getDescription()).isEqualTo(c.code());
            assertThat(refusal.getStatus().getDescription()).startsWith(c.prefix());
            assertThat(f.snapshot()).as("state after the refusal").isEqualTo(before);
        }));
    }

    @Test
    void theRowsAreRefusedOnlyForTheirBadField() {
        // The same requests with nothing bad pass, so each row's refusal is its field's.
        submit(b -> b);
        propose(b -> b);
        vote(b -> b);
        delegate("params", "delta");
        setTerms(b -> b.setSetWindows(true).addWindows("Sat").setTimeZone("Europe/Berlin").setReservedGpus(3));
        assertThat(RpcFixture.outcome(() -> hello(h -> gpus(h, 64).setVersion("v".repeat(64))))).isNull();
    }

    @Test
    void nodesLeftOutMeansOneNodeButAnExplicitZeroIsRefused() {
        // A client that never sets nodes (as proto3 clients before it had presence never sent 0) gets one node.
        long id = submit(b -> b.clearNodes()).getJobId();
        assertThat(jobs(MEMBER).getJob(GetJobRequest.newBuilder().setJobId(id).build()).getNodes()).isEqualTo(1);
        assertThat(SubmitRequest.newBuilder().setNodes(0).build().hasNodes()).as("an explicit 0 reaches the wire")
                .isTrue();
        StatusRuntimeException zero = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> submit(b -> b.setNodes(0)), StatusRuntimeException.class);
        assertThat(zero.getStatus().getCode()).isEqualTo(INVALID_ARGUMENT);
        assertThat(zero.getStatus().getDescription()).isEqualTo("nodes: must be between 1 and 256, got 0");
    }

    @Test
    void aMemberMayHaveAtMostMaxPendingPerMemberJobsWaiting(@TempDir Path dir) throws Exception {
        try (RpcFixture g = new RpcFixture(dir)) {
            g.pass(ProposalKind.PARAM, Map.of("params", new java.util.TreeMap<>(Map.of("max_pending_per_member", 3L))));
            JobsGrpc.JobsBlockingStub res = g.as(RESEARCHER, JobsGrpc.newBlockingStub(g.channel));
            SubmitRequest job = SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setGpuModel("H100")
                    .setCommand("true").build();
            // The running job does not count; two pending and one in review do.
            long first = res.submit(job).getJobId();
            res.submit(job);
            res.submit(job.toBuilder().setPurpose("dual-use").build());
            RpcFixture.Snapshot before = g.snapshot();
            StatusRuntimeException refusal = RpcFixture.outcome(() -> res.submit(job));
            assertThat(refusal).isNotNull();
            assertThat(refusal.getStatus().getCode()).isEqualTo(RESOURCE_EXHAUSTED);
            assertThat(refusal.getStatus().getDescription()).startsWith("member res already has 3 jobs waiting")
                    .contains("max_pending_per_member (3)");
            assertThat(g.snapshot()).isEqualTo(before);
            // A cancelled job no longer waits: there is room for one more, and only one.
            res.cancel(CancelRequest.newBuilder().setJobId(first).build());
            res.submit(job);
            assertThat(RpcFixture.outcome(() -> res.submit(job)).getStatus().getCode()).isEqualTo(RESOURCE_EXHAUSTED);
        }
    }
}
