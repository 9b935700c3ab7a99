package coop.cli;

import coop.v1.Job;
import coop.v1.ReportRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop report JOB --concern …}: a member's signed concern that opens a review panel on a job after the fact. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Report a concern about a job running or waiting without a review panel.",
                "A panel is drawn for it by lot, as for a high-risk job at submission (not from its account, the "
                        + "operators of its nodes, or you); if a majority rejects it, the job is cancelled. You may "
                        + "report only a job whose command you may read. The report is signed and kept in the ledger."})
final class ReportCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "JOB", description = "The job.")
    long job;

    @Option(names = "--concern", paramLabel = "TEXT", required = true,
            description = "What concerns you about the job, in a sentence.")
    String concern;

    @Option(names = "--json", description = "Print the job as JSON.")
    boolean json;

    @Override
    int run() {
        Job j;
        try (Client c = client.connect()) {
            j = c.report(ReportRequest.newBuilder().setJobId(job).setConcern(concern));
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(j));
            return 0;
        }
        out().println("reported job " + job + " (" + j.getState().name().toLowerCase() + "); a review panel was "
                + "drawn for it: coop panel verify " + job + " shows and checks the draw");
        return 0;
    }
}
