package coop.scheduler.allocation;

import coop.scheduler.domain.JobContainer;
import java.util.List;

/** What placement depends on, so that what one job of a shape found in a cycle holds for the next. */
record Shape(int gpusPerNode, int nodes, List<String> models, boolean crossSite, JobContainer container,
             long memMib, String purpose) {
    static Shape of(JobRequest job) {
        return new Shape(job.gpusPerNode(), job.nodes(), job.models(), job.crossSite(), job.container(),
                job.memMib(), job.purpose());
    }
}
