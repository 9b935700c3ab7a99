package coop.scheduler.rpc;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Matches agents' LogData answers to the Logs calls that asked for them. Output lives on the
 * node that ran the rank; the scheduler asks over the agent's stream and waits a bounded time.
 */
final class LogBroker {
    /**
     * A rank's captured output, each stream with the file offset its bytes start at, or why it
     * could not be read.
     */
    record Output(byte[] stdout, long stdoutOffset, byte[] stderr, long stderrOffset, String error) {
        static Output failed(String why) {
            return new Output(new byte[0], 0, new byte[0], 0, why);
        }
    }

    static final long ANSWER_TIMEOUT_SECONDS = 10;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<Output>> waiting = new ConcurrentHashMap<>();

    /** Opens a request; the future fails over to an error Output if the agent does not answer. */
    long open(CompletableFuture<Output> answer) {
        long id = ids.incrementAndGet();
        waiting.put(id, answer);
        answer.completeOnTimeout(Output.failed("the node did not answer within " + ANSWER_TIMEOUT_SECONDS + " s"),
                ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS).whenComplete((o, e) -> waiting.remove(id));
        return id;
    }

    void answer(long requestId, Output output) {
        CompletableFuture<Output> f = waiting.remove(requestId);
        if (f != null) {
            f.complete(output);
        }
    }
}
