package coop.cli;

import coop.v1.Job;
import coop.v1.ReviewRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop review JOB approve|reject --reason …}: a panel member's signed review of a high-risk job. */
@Command(name = "review", mixinStandardHelpOptions = true,
        description = {"Approve or reject a job waiting for review, if you were drawn onto its panel.",
                "The job starts once a majority of the panel approves; a majority can no longer approve, it is rejected."})
final class ReviewCommand extends ClientCommand {

    /** The decision as typed. */
    enum Decision { approve, reject }

    @Parameters(index = "0", paramLabel = "JOB", description = "The job.")
    long job;

    @Parameters(index = "1", paramLabel = "approve|reject", description = "Your decision.")
    Decision decision;

    @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "Why, in a sentence.")
    String reason;

    @Option(names = "--json", description = "Print the job as JSON.")
    boolean json;

    @Override
    int run() {
        Job j;
        try (Client c = client.connect()) {
            j = c.review(ReviewRequest.newBuilder().setJobId(job).setApprove(decision == Decision.approve)
                    .setReason(reason));
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(j));
            return 0;
        }
        out().println((decision == Decision.approve ? "approved" : "rejected") + " job " + job + "; it is now "
                + j.getState().name().toLowerCase()
                + (j.getWhyPending().isEmpty() ? "" : ": " + j.getWhyPending()));
        return 0;
    }
}
