package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.List;

/** The allocator's output; applied by one place (the event loop, or the simulator). */
public sealed interface Decision {
    long jobId();

    /** Start the job with one placement per rank; {@code borrowed} if beyond its account's entitlement. */
    record Admit(long jobId, List<Placement> placements, boolean borrowed) implements Decision {
        public Admit {
            placements = List.copyOf(placements);
        }

        public Admit(long jobId, List<Placement> placements) {
            this(jobId, placements, false);
        }
    }

    /**
     * Stop a borrowed attempt (checkpoint signal, grace, kill) and requeue its job, to give its
     * GPUs to {@code forJobId}, whose account is under its entitlement.
     */
    record Preempt(long jobId, int attempt, long forJobId, String reason) implements Decision {
    }

    /**
     * GPUs preempted for the job are its own until it starts or the holds lapse: no other job
     * takes them as they come free ({@link Holds} keeps them between cycles).
     */
    record Hold(long jobId, List<GpuHold> gpus) implements Decision {
        public Hold {
            gpus = List.copyOf(gpus);
        }
    }

    /**
     * The job is first in line and does not fit: the GPUs on {@code nodes} are reserved for it
     * from {@code startAt} (epoch ms, when running walltimes end), and later jobs may use them
     * only if they end before that.
     */
    record Reserve(long jobId, List<String> nodes, long startAt, String detail) implements Decision {
        public Reserve {
            nodes = List.copyOf(nodes);
        }
    }

    /** The job waits; {@code detail} is the one-line explanation shown to its submitter. */
    record Wait(long jobId, Veto veto, String detail) implements Decision {
    }
}
