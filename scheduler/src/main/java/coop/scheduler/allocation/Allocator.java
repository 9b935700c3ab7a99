package coop.scheduler.allocation;

/**
 * coop's allocator: a pure function from a {@link ClusterSnapshot} to decisions. No I/O, no
 * clock, no threads; the same snapshot always gives the same plan.
 *
 * <p>One cycle, top to bottom:
 * <ol>
 *   <li><b>Operators' reserves.</b> A node's operator account has first claim on the GPUs the
 *       node reserves for it: its single-node jobs go there first, taking the reserve back from
 *       other accounts' preemptible attempts if needed. Reserves are not part of the
 *       cooperative's capacity, and what an operator runs on its own reserve is not charged to
 *       its share.</li>
 *   <li><b>Entitlement and fair level.</b> Each account is entitled to its voted share of the
 *       GPUs offered now ({@code E = share × C}); its <em>fair level</em> is its weighted max-min
 *       share of C for the current demand (at least E while it wants that much; what idle
 *       accounts leave flows to the others by share). A job is <em>due</em> when its account
 *       stays within its fair level counting the job at half, or when the account is owed time
 *       (it used less than its level would have given it) and stays within the level rounded
 *       up to a whole GPU (any size while it holds nothing). An attempt is <em>borrowed</em>
 *       when its account is over its fair level by more than half of it, unless the account is
 *       owed time and within that rounded-up level.</li>
 *   <li><b>Order.</b> Due jobs come first, then the rest; within each group accounts go by
 *       decayed usage over share (lowest first), then job priority, then age. An account's due
 *       jobs go strictly in its order: one that is not due, or cannot start, holds the later
 *       ones back to the rest.</li>
 *   <li><b>Admit.</b> A job whose GPUs are free starts; beyond its entitlement it starts on
 *       borrowed GPUs, unless it asked not to be preempted.</li>
 *   <li><b>Held.</b> A job GPUs were preempted for comes first: it starts as soon as they are
 *       free, and until then, or until the hold lapses, no other job takes them.</li>
 *   <li><b>Reclaim.</b> A job within its entitlement that fits only with GPUs held by other
 *       accounts' borrowed attempts preempts the fewest of them, taking only from accounts that
 *       hold more of their entitlement than its own will: the jobs preempted fewest times
 *       first, then those losing least since their last checkpoint. Attempts within the
 *       policy's minimum run are spared, and a job shorter than it preempts no one
 *       ({@link PreemptionRules}). It waits for them to stop; the GPUs are held for it.</li>
 *   <li><b>Reserve and backfill (EASY).</b> The oldest due job that can neither start nor
 *       reclaim, unless an older due job can reclaim (or, if none, the first other job), gets
 *       the nodes where it can start earliest, at the time running walltimes allow; later jobs
 *       may use those nodes' GPUs only if they end before then, or leave enough for it.</li>
 *   <li>Every other job waits with a named veto, and the nodes it met counted by why each
 *       could not take it ({@link NodeVeto}: draining, outside their window, other GPUs, too
 *       small, reserved, busy).</li>
 * </ol>
 * Multi-node jobs are placed all or nothing, on one site unless they allow crossing sites. A
 * job goes only on nodes whose availability window stays open until its walltime ends.
 *
 * <p>The cycle reads each pending job once or twice; jobs that surely cannot start once the
 * reservation is made are not decided one by one: {@link Plan} explains them on demand. The
 * steps are {@link Cycle}'s; each mechanism has a class of its own there.
 */
public final class Allocator implements SchedulingPolicy {

    @Override
    public String name() {
        return "coop";
    }

    @Override
    public Plan plan(ClusterSnapshot snapshot) {
        return new Cycle(snapshot).run();
    }
}
