package coop.scheduler.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.store.Store;
import coop.scheduler.view.WireJson;
import coop.v1.LedgerHead;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's verification as the dashboard shows it: the same check as {@code coop ledger
 * verify}, run beside the scheduler on its own thread over the entries up to the committed head.
 * A page that polls never waits for it and never starts more than one at a time: it sees the
 * latest finished check, and a new one starts when the head has moved and the last is at least
 * {@code gap} old, so a busy ledger costs one pass every {@code gap} at most.
 */
final class LedgerCheck {
    private static final Logger log = LoggerFactory.getLogger(LedgerCheck.class);

    /** A finished check of the first {@code size} entries. */
    record Checked(long size, LedgerVerifier.Report report, long checkedAtMs) {
    }

    private final Store store;
    private final ExecutorService worker;
    private final InstantSource clock;
    private final Duration gap;
    private final AtomicBoolean checking = new AtomicBoolean();
    private volatile Checked last;
    private volatile long lastStartMs = Long.MIN_VALUE / 2;
    private volatile boolean closed;

    LedgerCheck(Store store, ExecutorService worker, InstantSource clock, Duration gap) {
        this.store = store;
        this.worker = worker;
        this.clock = clock;
        this.gap = gap;
    }

    /** The head and the latest check, starting a new check if one is due. */
    ObjectNode json(LedgerHead head) {
        refresh(head.getSize());
        Checked c = last;
        ObjectNode o = WireJson.object();
        o.put("size", head.getSize());
        o.put("head", head.getHead());
        o.put("checking", checking.get());
        if (c == null) {
            o.putNull("verification");
        } else {
            ObjectNode v = WireJson.ledgerReport(c.report(), c.size());
            v.put("checked_at_ms", c.checkedAtMs());
            v.put("current", c.size() == head.getSize());
            o.set("verification", v);
        }
        return o;
    }

    private void refresh(long size) {
        Checked c = last;
        long now = clock.millis();
        boolean due = c == null || (c.size() != size && now - lastStartMs >= gap.toMillis());
        if (!due || closed || !checking.compareAndSet(false, true)) {
            return;
        }
        lastStartMs = now;
        try {
            worker.execute(() -> {
                try {
                    LedgerVerifier.Report r = LedgerVerifier.verify(store, size, () -> closed);
                    if (r != null) {
                        last = new Checked(size, r, clock.millis());
                        if (!r.ok()) {
                            log.error("ledger verification failed: {}", r.problem());
                        }
                    }
                } catch (RuntimeException e) {
                    log.warn("ledger verification could not run: {}", e.toString());
                } finally {
                    checking.set(false);
                }
            });
        } catch (RejectedExecutionException stopping) {
            checking.set(false);
        }
    }

    /** Makes a running check stop at its next entry; the caller then waits for the worker to end. */
    void close() {
        closed = true;
    }
}
