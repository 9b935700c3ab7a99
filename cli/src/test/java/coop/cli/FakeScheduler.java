package coop.cli;

import com.google.protobuf.ByteString;
import coop.v1.CancelRequest;
import coop.v1.GetJobRequest;
import coop.v1.GetPolicyRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.Job;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.ListJobsResponse;
import coop.v1.ListNodesRequest;
import coop.v1.ListNodesResponse;
import coop.v1.ListPoliciesRequest;
import coop.v1.ListPoliciesResponse;
import coop.v1.ListProposalsRequest;
import coop.v1.ListProposalsResponse;
import coop.v1.LogChunk;
import coop.v1.LogsRequest;
import coop.v1.NodeInfo;
import coop.v1.NodesGrpc;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import coop.v1.Tally;
import coop.v1.UsageRequest;
import coop.v1.UsageResponse;
import coop.v1.VoteRequest;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler stand-in on a real Netty port of 127.0.0.1: it records every request and
 * the headers it came with, and answers with canned replies (or a configured failure).
 */
final class FakeScheduler implements AutoCloseable {

    /** Requests in arrival order. */
    final List<Message> requests = new CopyOnWriteArrayList<>();
    /** Headers of each call, in arrival order. */
    final List<Metadata> headers = new CopyOnWriteArrayList<>();

    volatile Status failure;
    volatile List<Job> jobs = List.of();
    volatile List<LogChunk> logChunks = List.of();
    /** Job arrays: their ids name no job, as the real scheduler's do not. */
    volatile List<coop.v1.JobArray> arrays = List.of();
    volatile List<NodeInfo> nodes = List.of();
    volatile List<Proposal> proposals = List.of();
    volatile Policy policy = Policy.getDefaultInstance();
    volatile UsageResponse usage = UsageResponse.getDefaultInstance();
    volatile long now = System.currentTimeMillis();
    /** What a submit is answered. */
    volatile SubmitResponse submitResponse = SubmitResponse.newBuilder().setJobId(42).build();

    private final Server server;

    FakeScheduler() throws IOException {
        ServerInterceptor recordHeaders = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata metadata,
                    ServerCallHandler<Q, A> next) {
                headers.add(metadata);
                return next.startCall(call, metadata);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new Jobs(), recordHeaders))
                .addService(ServerInterceptors.intercept(new Governance(), recordHeaders))
                .addService(ServerInterceptors.intercept(new Nodes(), recordHeaders))
                .build()
                .start();
    }

    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    Metadata lastHeaders() {
        return headers.get(headers.size() - 1);
    }

    <T extends Message> T last(Class<T> type) {
        for (int i = requests.size() - 1; i >= 0; i--) {
            if (type.isInstance(requests.get(i))) {
                return type.cast(requests.get(i));
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " received");
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    private <T> boolean failed(Message request, StreamObserver<T> response) {
        requests.add(request);
        Status status = failure;
        if (status != null) {
            response.onError(status.asRuntimeException());
            return true;
        }
        return false;
    }

    private static <T> void reply(StreamObserver<T> response, T value) {
        response.onNext(value);
        response.onCompleted();
    }

    private Job job(long id) {
        return jobs.stream().filter(j -> j.getId() == id).findFirst()
                .orElse(Job.newBuilder().setId(id).build());
    }

    private final class Jobs extends JobsGrpc.JobsImplBase {
        @Override
        public void submit(SubmitRequest request, StreamObserver<SubmitResponse> response) {
            if (!failed(request, response)) {
                reply(response, submitResponse);
            }
        }

        @Override
        public void getJob(GetJobRequest request, StreamObserver<Job> response) {
            if (!failed(request, response)) {
                reply(response, job(request.getJobId()));
            }
        }

        @Override
        public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> response) {
            if (!failed(request, response)) {
                // Pages as the scheduler's do, by position: a token is where the next page starts.
                List<Job> all = jobs;
                int from = request.getPageToken().isEmpty() ? 0 : Integer.parseInt(request.getPageToken());
                int to = request.getPageSize() > 0 ? Math.min(all.size(), from + request.getPageSize()) : all.size();
                ListJobsResponse.Builder page = ListJobsResponse.newBuilder().addAllJobs(all.subList(from, to));
                if (to < all.size()) {
                    page.setNextPageToken(Integer.toString(to));
                }
                reply(response, page.build());
            }
        }

        @Override
        public void cancel(CancelRequest request, StreamObserver<Job> response) {
            if (!failed(request, response)) {
                reply(response, job(request.getJobId()));
            }
        }

        @Override
        public void getArray(coop.v1.GetArrayRequest request, StreamObserver<coop.v1.JobArray> response) {
            if (!failed(request, response)) {
                arrays.stream().filter(a -> a.getId() == request.getArrayId()).findFirst().ifPresentOrElse(
                        a -> reply(response, a), () -> response.onError(Status.NOT_FOUND
                                .withDescription("no job array " + request.getArrayId()).asRuntimeException()));
            }
        }

        @Override
        public void logs(LogsRequest request, StreamObserver<LogChunk> response) {
            if (arrays.stream().anyMatch(a -> a.getId() == request.getJobId())) {
                requests.add(request);
                response.onError(Status.NOT_FOUND.withDescription("no job " + request.getJobId()).asRuntimeException());
                return;
            }
            if (!failed(request, response)) {
                logChunks.stream().filter(c -> request.getRank() < 0 || c.getRank() == request.getRank())
                        .forEach(response::onNext);
                response.onCompleted();
            }
        }
    }

    private final class Governance extends GovernanceGrpc.GovernanceImplBase {
        @Override
        public void propose(ProposeRequest request, StreamObserver<Proposal> response) {
            if (!failed(request, response)) {
                reply(response, Proposal.newBuilder()
                        .setId(7).setTitle(request.getTitle()).setProposer("alice")
                        .setShares(request.getShares())
                        .setOpenedAtMs(now)
                        .setClosesAtMs(now + request.getClosesInSeconds() * 1000)
                        .setState(ProposalState.OPEN)
                        .setTally(Tally.newBuilder().setEligible(5))
                        .build());
            }
        }

        @Override
        public void report(coop.v1.ReportRequest request, StreamObserver<coop.v1.Job> response) {
            if (!failed(request, response)) {
                reply(response, coop.v1.Job.newBuilder().setId(request.getJobId()).setState(coop.v1.JobState.RUNNING)
                        .build());
            }
        }

        @Override
        public void vote(VoteRequest request, StreamObserver<Proposal> response) {
            if (!failed(request, response)) {
                reply(response, Proposal.newBuilder().setId(request.getProposalId()).setState(ProposalState.OPEN)
                        .setTally(Tally.newBuilder().setYes(3).setNo(1).setAbstain(0).setEligible(5)).build());
            }
        }

        @Override
        public void listProposals(ListProposalsRequest request, StreamObserver<ListProposalsResponse> response) {
            if (!failed(request, response)) {
                reply(response, ListProposalsResponse.newBuilder().addAllProposals(proposals).build());
            }
        }

        @Override
        public void getPolicy(GetPolicyRequest request, StreamObserver<Policy> response) {
            if (!failed(request, response)) {
                reply(response, policy);
            }
        }

        @Override
        public void listPolicies(ListPoliciesRequest request, StreamObserver<ListPoliciesResponse> response) {
            if (!failed(request, response)) {
                reply(response, ListPoliciesResponse.newBuilder().addPolicies(policy).build());
            }
        }

        @Override
        public void usage(UsageRequest request, StreamObserver<UsageResponse> response) {
            if (!failed(request, response)) {
                reply(response, usage);
            }
        }
    }

    private final class Nodes extends NodesGrpc.NodesImplBase {
        @Override
        public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> response) {
            if (!failed(request, response)) {
                reply(response, ListNodesResponse.newBuilder().addAllNodes(nodes).build());
            }
        }

        @Override
        public void enroll(coop.v1.EnrollRequest request, StreamObserver<coop.v1.EnrollResponse> response) {
            if (!failed(request, response)) {
                reply(response, coop.v1.EnrollResponse.newBuilder().setName(request.getName())
                        .setSite(request.getSite()).setAccount(request.getAccount()).setToken("node-s3cret").build());
            }
        }

        @Override
        public void setTerms(coop.v1.SetTermsRequest request, StreamObserver<NodeInfo> response) {
            if (!failed(request, response)) {
                reply(response, NodeInfo.newBuilder().setName(request.getName()).setAccount("lab-a")
                        .setReservedGpus(request.getReservedGpus()).addAllWindows(request.getWindowsList())
                        .setTimeZone(request.getTimeZone()).setOffered(false).setWindowChangeMs(1_796_241_600_000L)
                        .addAllRefusedPurposes(request.getRefusedPurposesList()).build());
            }
        }
    }

    static ByteString utf8(String text) {
        return ByteString.copyFromUtf8(text);
    }
}
