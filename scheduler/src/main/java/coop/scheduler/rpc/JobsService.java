package coop.scheduler.rpc;

import com.google.protobuf.ByteString;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.engine.AgentSessions;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.JobBook;
import coop.scheduler.trust.Authority;
import coop.scheduler.view.ProtoMapper;
import coop.scheduler.view.Reads;
import coop.v1.CancelRequest;
import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.JobArray;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.ListJobsResponse;
import coop.v1.LogChunk;
import coop.v1.LogsRequest;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/** The Jobs service: translates requests into event-loop commands and results into replies. */
final class JobsService extends JobsGrpc.JobsImplBase {
    private static final int LOG_TAIL_BYTES = 1 << 20;
    private final EventLoop loop;
    private final LogBroker logs;
    private final ScheduledExecutorService followers;
    private final WorkdirTransfers workdirs;

    /** {@code followers} runs the polls of {@code Logs} calls that follow a job. */
    JobsService(EventLoop loop, LogBroker logs, ScheduledExecutorService followers, WorkdirTransfers workdirs) {
        this.loop = loop;
        this.logs = logs;
        this.followers = followers;
        this.workdirs = workdirs;
    }

    @Override
    public void statWorkdir(coop.v1.WorkdirRef r, StreamObserver<coop.v1.WorkdirStat> out) {
        workdirs.stat(Caller.member(), r, out);
    }

    @Override
    public StreamObserver<coop.v1.WorkdirChunk> uploadWorkdir(StreamObserver<coop.v1.WorkdirStat> out) {
        return workdirs.upload(Caller.member(), out);
    }

    @Override
    public void submit(SubmitRequest r, StreamObserver<SubmitResponse> out) {
        String member = Caller.member();
        // Left out means one node; an explicit 0 reaches ClusterState and is refused there.
        int nodes = r.hasNodes() ? r.getNodes() : 1;
        var spec = new JobSpec(r.getAccount(), r.getGpusPerNode(), nodes, r.getGpuModel(),
                r.getWalltimeSeconds(), r.getCommand(), r.getPriority(), r.getName(), r.getCrossSite(),
                r.getNoPreempt(), r.getPurpose(), r.getArray(), r.getSignal(), r.getRequeueOnTimeout(), r.getEnvMap(),
                r.getChdir(), new JobContainer(r.getContainer(), r.getMountsList().stream()
                        .map(m -> new JobContainer.Mount(m.getSource(), m.getDestination(), m.getReadOnly())).toList()),
                r.getWorkdir(), new JobOptions(r.getDependency(), r.getNotify(), r.getNotifyTo(), r.getMemMb(),
                r.getOutput(), r.getError(), r.getArrayMaxRunning()));
        if (!r.getWorkdir().isEmpty()) {
            // Nothing removes a stored folder, so one found here is still there when the job starts.
            try {
                if (!workdirs.stored(r.getWorkdir())) {
                    throw coop.scheduler.domain.CoopException.precondition("workdir: folder " + r.getWorkdir()
                            + " is not stored on the scheduler: upload it first (coop submit --workdir does)");
                }
            } catch (RuntimeException e) {
                out.onError(Replies.status(e));
                return;
            }
        }
        Replies.unary(loop.call((s, tx) -> s.submitJobs(member, spec, tx)), out,
                done -> SubmitResponse.newBuilder().setJobId(done.firstJobId()).setArrayId(done.arrayId())
                        .setArrayTasks(done.tasks()).build());
    }

    @Override
    public void setNotifyDefault(coop.v1.NotifyDefault r, StreamObserver<coop.v1.NotifyDefault> out) {
        String member = Caller.member();
        String on = r.hasNotify() ? r.getNotify() : null;
        String to = r.hasNotifyTo() ? r.getNotifyTo() : null;
        Replies.unary(loop.call((s, tx) -> s.setNotifyDefault(member, on, to, tx)), out, JobsService::notifyDefault);
    }

    @Override
    public void getNotifyDefault(coop.v1.GetNotifyDefaultRequest r, StreamObserver<coop.v1.NotifyDefault> out) {
        String member = Caller.member();
        Replies.unary(loop.call((s, tx) -> s.notifyDefault(member)), out, JobsService::notifyDefault);
    }

    private static coop.v1.NotifyDefault notifyDefault(coop.scheduler.domain.NotifyChoice c) {
        return coop.v1.NotifyDefault.newBuilder().setNotify(c.notifyOn()).setNotifyTo(c.notifyTo()).build();
    }

    @Override
    public void getArray(GetArrayRequest r, StreamObserver<JobArray> out) {
        if (Fields.refused(out, () -> Fields.positiveId("array_id", r.getArrayId()))) {
            return;
        }
        String reader = reader();
        Replies.unary(loop.call((s, tx) -> Reads.array(s, s.array(r.getArrayId()), s.visibility(reader))), out,
                a -> a);
    }

    @Override
    public void cancelArray(GetArrayRequest r, StreamObserver<JobArray> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("array_id", r.getArrayId()))) {
            return;
        }
        Replies.unary(loop.call((s, tx) -> Reads.array(s, s.cancelArray(member, r.getArrayId(), tx),
                s.visibility(member))), out, a -> a);
    }

    @Override
    public void getJob(GetJobRequest r, StreamObserver<coop.v1.Job> out) {
        if (Fields.refused(out, () -> Fields.positiveId("job_id", r.getJobId()))) {
            return;
        }
        String reader = reader();
        Replies.unary(loop.call((s, tx) -> ProtoMapper.job(s.job(r.getJobId()), s.whyPending(r.getJobId()),
                s.expectedStart(r.getJobId()), s.visibility(reader))), out, j -> j);
    }

    @Override
    public void listJobs(ListJobsRequest r, StreamObserver<ListJobsResponse> out) {
        Set<JobState> states = EnumSet.noneOf(JobState.class);
        if (Fields.refused(out, () -> {
            if (r.getStatesCount() > JobState.values().length) {
                throw coop.scheduler.domain.CoopException.invalid("states", "at most " + JobState.values().length
                        + " states, got " + r.getStatesCount());
            }
        })) {
            return;
        }
        try {
            r.getStatesList().forEach(st -> states.add(ProtoMapper.state(st)));
        } catch (RuntimeException e) {
            out.onError(Replies.status(e));
            return;
        }
        int size;
        long before;
        try {
            size = Reads.pageSize(r.getPageSize(), r.getLimit());
            before = Reads.pageStart(r.getPageToken());
        } catch (RuntimeException e) {
            out.onError(Replies.status(e));
            return;
        }
        String reader = reader();
        var filter = new JobBook.Filter(r.getAccount(), r.getMember(), states, r.getFinishedSinceMs(), r.getArrayId(),
                r.getGroupArrays());
        Replies.unary(Reads.jobs(loop, s -> s.visibility(reader), filter, before, size), out, x -> x);
    }

    @Override
    public void cancel(CancelRequest r, StreamObserver<coop.v1.Job> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("job_id", r.getJobId()))) {
            return;
        }
        Replies.unary(loop.call((s, tx) -> ProtoMapper.job(s.cancel(member, r.getJobId(), tx), "",
                s.visibility(member))), out, j -> j);
    }

    /**
     * The member a read is for: the one the call's headers name, or else the member its TLS
     * certificate names (which the handshake and {@link PeerCertificate} have checked); null for
     * an anonymous call or a node, which read no job's command or output.
     */
    private static String reader() {
        String member = Caller.member();
        if (member != null) {
            return member;
        }
        Authority.Holder holder = PeerCertificate.holder();
        return holder != null && holder.kind().equals(Authority.Holder.MEMBER) ? holder.name() : null;
    }

    private record Pending(AgentSessions.LogSource source, CompletableFuture<LogBroker.Output> output) {
    }

    @Override
    public void logs(LogsRequest r, StreamObserver<LogChunk> out) {
        if (Fields.refused(out, () -> Fields.positiveId("job_id", r.getJobId()))) {
            return;
        }
        String reader = reader();
        if (r.getFollow()) {
            new LogFollow(loop, logs, followers, reader, r.getJobId(), r.getRank(), LOG_TAIL_BYTES,
                    (ServerCallStreamObserver<LogChunk>) out).start();
            return;
        }
        loop.call((s, tx) -> {
            List<Pending> asked = new ArrayList<>();
            for (AgentSessions.LogSource src : s.logSources(reader, r.getJobId(), r.getRank())) {
                CompletableFuture<LogBroker.Output> f = new CompletableFuture<>();
                if (src.link() == null) {
                    f.complete(LogBroker.Output.failed("node " + src.node() + " is offline"));
                } else {
                    src.link().requestLogs(logs.open(f), src.ref(), LOG_TAIL_BYTES, 0, 0);
                }
                asked.add(new Pending(src, f));
            }
            return asked;
        }).whenComplete((asked, error) -> {
            if (error != null) {
                out.onError(Replies.status(error));
                return;
            }
            CompletableFuture.allOf(asked.stream().map(Pending::output).toArray(CompletableFuture[]::new))
                    .whenComplete((v, e) -> {
                        for (Pending p : asked) {
                            LogBroker.Output o = p.output().join();
                            out.onNext(LogChunk.newBuilder().setNode(p.source().node()).setRank(p.source().ref().rank())
                                    .setAttempt(p.source().ref().attempt()).setStdout(ByteString.copyFrom(o.stdout()))
                                    .setStderr(ByteString.copyFrom(o.stderr())).setError(o.error()).build());
                        }
                        out.onCompleted();
                    });
        });
    }
}
