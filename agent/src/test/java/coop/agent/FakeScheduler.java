package coop.agent;

import coop.v1.AgentMessage;
import coop.v1.AttemptExited;
import coop.v1.AttemptRef;
import coop.v1.AttemptStarted;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.LogData;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import coop.v1.Welcome;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The scheduler's side of {@code Nodes.Connect}, reduced to what agent tests need: it records
 * every stream and message, answers each Hello with a Welcome, and lets a test send orders or
 * end a stream.
 */
final class FakeScheduler extends NodesGrpc.NodesImplBase {

    final List<Stream> streams = new CopyOnWriteArrayList<>();
    private final long heartbeatIntervalMs;

    FakeScheduler(long heartbeatIntervalMs) {
        this.heartbeatIntervalMs = heartbeatIntervalMs;
    }

    /** The cooperative's accounts, named in every Welcome. */
    volatile List<String> accounts = List.of("lab-a", "lab-b");

    /** When set, every new stream is answered with this error at once, as a scheduler refusing the agent. */
    volatile io.grpc.Status refuse;
    /** How many streams were refused. */
    final java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();

    /** Packed folders FetchWorkdir serves, by digest; any other is NOT_FOUND. */
    final java.util.Map<String, byte[]> workdirs = new java.util.concurrent.ConcurrentHashMap<>();
    /** How many FetchWorkdir calls came. */
    final java.util.concurrent.atomic.AtomicInteger fetches = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void fetchWorkdir(coop.v1.FetchWorkdirRequest r, StreamObserver<coop.v1.WorkdirChunk> out) {
        fetches.incrementAndGet();
        byte[] packed = workdirs.get(r.getDigest());
        if (packed == null) {
            out.onError(io.grpc.Status.NOT_FOUND.withDescription("no folder " + r.getDigest()).asRuntimeException());
            return;
        }
        for (int at = 0; at < packed.length; at += 1000) {
            out.onNext(coop.v1.WorkdirChunk.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(packed, at,
                    Math.min(1000, packed.length - at))).build());
        }
        out.onCompleted();
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<SchedulerMessage> responses) {
        io.grpc.Status refusal = refuse;
        if (refusal != null) {
            refused.incrementAndGet();
            responses.onError(refusal.asRuntimeException());
            return new StreamObserver<>() {
                @Override
                public void onNext(AgentMessage message) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
        Stream stream = new Stream(responses);
        streams.add(stream);
        return stream;
    }

    /** The newest stream; fails if the agent never connected. */
    Stream latest() {
        if (streams.isEmpty()) {
            throw new AssertionError("the agent has not connected");
        }
        return streams.get(streams.size() - 1);
    }

    /** One agent stream as the scheduler sees it. */
    final class Stream implements StreamObserver<AgentMessage> {
        final List<AgentMessage> received = new CopyOnWriteArrayList<>();
        private final StreamObserver<SchedulerMessage> out;
        volatile boolean completedByAgent;
        volatile boolean closed;

        Stream(StreamObserver<SchedulerMessage> out) {
            this.out = out;
        }

        @Override
        public void onNext(AgentMessage message) {
            received.add(message);
            if (message.hasHello()) {
                send(SchedulerMessage.newBuilder()
                        .setWelcome(Welcome.newBuilder().setHeartbeatIntervalMs(heartbeatIntervalMs)
                                .addAllAccounts(accounts))
                        .build());
            }
        }

        @Override
        public void onError(Throwable t) {
            closed = true;
        }

        @Override
        public void onCompleted() {
            completedByAgent = true;
            end();
        }

        synchronized void send(SchedulerMessage message) {
            if (!closed) {
                out.onNext(message);
            }
        }

        /** Ends the stream from the scheduler's side, as a scheduler restart or a proxy would. */
        synchronized void end() {
            if (!closed) {
                closed = true;
                out.onCompleted();
            }
        }

        Optional<Hello> hello() {
            return received.stream().filter(AgentMessage::hasHello).map(AgentMessage::getHello).findFirst();
        }

        List<Heartbeat> heartbeats() {
            return received.stream().filter(AgentMessage::hasHeartbeat).map(AgentMessage::getHeartbeat).toList();
        }

        List<AttemptStarted> started(AttemptRef ref) {
            return received.stream().filter(AgentMessage::hasStarted).map(AgentMessage::getStarted)
                    .filter(m -> m.getRef().equals(ref)).toList();
        }

        List<AttemptExited> exits(AttemptRef ref) {
            return received.stream().filter(AgentMessage::hasExited).map(AgentMessage::getExited)
                    .filter(m -> m.getRef().equals(ref)).toList();
        }

        Optional<LogData> logData(long requestId) {
            return received.stream().filter(AgentMessage::hasLogData).map(AgentMessage::getLogData)
                    .filter(m -> m.getRequestId() == requestId).findFirst();
        }
    }
}
