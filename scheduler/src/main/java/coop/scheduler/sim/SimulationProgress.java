package coop.scheduler.sim;

/** Told after each batch of events how far a replay is: {@code done} of {@code total} job submits and ends. */
@FunctionalInterface
public interface SimulationProgress {
    SimulationProgress NONE = (done, total) -> { };

    void update(long done, long total);
}
