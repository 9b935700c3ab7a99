package coop.cli;

import coop.v1.LogChunk;
import coop.v1.LogsRequest;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coop logs JOB}: the captured output of a job's latest attempt, stdout to
 * stdout and stderr to stderr, so it pipes like the job's own output would. Gangs
 * with several ranks get a {@code ==> rank R on NODE <==} line before each section.
 */
@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Print the captured output of a job's latest attempt.",
                "Standard output goes to stdout and standard error to stderr (the last 1 MiB of each).",
                "With several ranks, each rank's section starts with ==> rank R on NODE <=="})
final class LogsCommand extends ClientCommand {

    @Parameters(paramLabel = "JOB", description = "The job.")
    long jobId;

    @Option(names = "--rank", paramLabel = "R", defaultValue = "-1",
            description = "Only this rank of a gang (default: every rank).")
    int rank;

    @ArgGroup(exclusive = true)
    Streams streams;

    static final class Streams {
        @Option(names = "--stdout-only", description = "Print only standard output.")
        boolean stdoutOnly;

        @Option(names = "--stderr-only", description = "Print only standard error.")
        boolean stderrOnly;
    }

    @Override
    int run() {
        List<LogChunk> chunks = new ArrayList<>();
        try (Client c = client.connect()) {
            Iterator<LogChunk> stream = c.jobs().logs(LogsRequest.newBuilder().setJobId(jobId).setRank(rank).build());
            stream.forEachRemaining(chunks::add);
        }
        if (chunks.isEmpty()) {
            err().println("job " + jobId + " has no output yet");
            return 0;
        }
        boolean showOut = streams == null || !streams.stderrOnly;
        boolean showErr = streams == null || !streams.stdoutOnly;
        boolean headed = chunks.stream().map(LogChunk::getRank).distinct().count() > 1;
        int status = 0;
        for (LogChunk chunk : chunks) {
            String header = "==> rank " + chunk.getRank() + " on " + chunk.getNode() + " <==";
            if (!chunk.getError().isEmpty()) {
                err().println("error: rank " + chunk.getRank() + " on " + chunk.getNode() + ": " + chunk.getError());
                status = Errors.FAILED;
            }
            if (showOut) {
                section(out(), headed ? header : null, chunk.getStdout().toString(StandardCharsets.UTF_8));
            }
            if (showErr) {
                section(err(), headed ? header : null, chunk.getStderr().toString(StandardCharsets.UTF_8));
            }
        }
        return status;
    }

    /** Prints one stream of one rank; headed sections are skipped when empty. */
    private static void section(PrintWriter to, String header, String text) {
        if (header != null) {
            if (text.isEmpty()) {
                return;
            }
            to.println(header);
        }
        to.print(text);
        if (header != null && !text.endsWith("\n")) {
            to.println();
        }
        to.flush();
    }
}
