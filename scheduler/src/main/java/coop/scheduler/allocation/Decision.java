package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.List;

/** The allocator's output, one per pending job it looked at; applied by the event loop. */
public sealed interface Decision {
    long jobId();

    /** Start the job with one placement per rank. */
    record Admit(long jobId, List<Placement> placements) implements Decision {
        public Admit {
            placements = List.copyOf(placements);
        }
    }

    /**
     * The job is first in line and does not fit: the free GPUs on {@code nodes} are held
     * for it (no later job may take them) until enough are free.
     */
    record Reserve(long jobId, List<String> nodes, int heldGpus, int neededGpus) implements Decision {
        public Reserve {
            nodes = List.copyOf(nodes);
        }
    }

    /** The job waits; {@code detail} is the one-line explanation shown to its submitter. */
    record Wait(long jobId, Veto veto, String detail) implements Decision {
    }
}
