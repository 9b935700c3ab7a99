package coop.cli;

import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.JobArray;
import coop.v1.LogChunk;
import coop.v1.LogsRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
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
 * With {@code -f} it keeps printing output as the job writes it, into the next attempt
 * (after a {@code ==> attempt N <==} line on stderr) if the job is requeued, and exits
 * once the job has ended.
 */
@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Print the captured output of a job's latest attempt.",
                "Standard output goes to stdout and standard error to stderr (the last 1 MiB of each).",
                "With several ranks, each rank's section starts with ==> rank R on NODE <==",
                "With -f, keep printing new output until the job ends; a requeued job's next attempt "
                        + "follows after ==> attempt N <== on stderr. Ctrl-C stops following."})
final class LogsCommand extends ClientCommand {
    /** Exit code after Ctrl-C, as a shell reports a process ended by SIGINT. */
    private static final int INTERRUPTED = 128 + 2;

    @Parameters(paramLabel = "JOB", converter = JobRef.Converter.class,
            description = "The job, or an array's task as ARRAY_INDEX (122_7).")
    JobRef ref;

    /** The job's id, once {@link #ref} is resolved. */
    long jobId;

    @Option(names = "--rank", paramLabel = "R", defaultValue = "-1",
            description = "Only this rank of a gang (default: every rank).")
    int rank;

    @Option(names = {"-f", "--follow"},
            description = "Keep printing output as the job writes it, until the job ends (also waits for a pending job).")
    boolean follow;

    @ArgGroup(exclusive = true)
    Streams streams;

    static final class Streams {
        @Option(names = "--stdout-only", description = "Print only standard output.")
        boolean stdoutOnly;

        @Option(names = "--stderr-only", description = "Print only standard error.")
        boolean stderrOnly;
    }

    @Override
    int run() throws Exception {
        try (Client c = client.connect()) {
            jobId = ref.jobId(c);
            try {
                return follow ? follow(c) : printOnce(c);
            } catch (StatusRuntimeException e) {
                throw ref.isTask() || !JobRef.notFound(e) ? e : arrayInstead(c, e);
            }
        }
    }

    /**
     * A plain id that names no job may name a job array, whose tasks have output but which has
     * none of its own: then say so and which id to give, else the scheduler's own answer stands.
     */
    private RuntimeException arrayInstead(Client c, StatusRuntimeException noJob) {
        JobArray array;
        try {
            array = c.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(ref.id()).build());
        } catch (StatusRuntimeException notArray) {
            return noJob;
        }
        return new CliException(ref.id() + " is a job array, whose tasks each have their own output: give a task as "
                + "ARRAY_INDEX, such as coop logs " + ref.id() + "_" + array.getFirstIndex() + " (coop jobs --array "
                + ref.id() + " lists them)");
    }

    private int printOnce(Client c) {
        List<LogChunk> chunks = new ArrayList<>();
        Iterator<LogChunk> stream = c.jobs().logs(LogsRequest.newBuilder().setJobId(jobId).setRank(rank).build());
        stream.forEachRemaining(chunks::add);
        if (chunks.isEmpty()) {
            err().println("job " + jobId + " has no output yet");
            return 0;
        }
        Printer printer = new Printer(chunks.stream().map(LogChunk::getRank).distinct().count() > 1);
        chunks.forEach(printer::print);
        return printer.finish();
    }

    private int follow(Client c) throws Exception {
        // Sections are headed by rank when a gang's ranks can interleave; a gang's size is fixed at submit.
        boolean headed = rank < 0 && c.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getNodes() > 1;
        Printer printer = new Printer(headed);
        Context.CancellableContext call = Context.current().withCancellation();
        // Ctrl-C: tell the scheduler to stop polling for us before the JVM goes.
        Thread interrupt = new Thread(() -> call.cancel(null), "coop-logs-interrupt");
        Runtime.getRuntime().addShutdownHook(interrupt);
        try {
            call.run(() -> c.jobsUntilDone()
                    .logs(LogsRequest.newBuilder().setJobId(jobId).setRank(rank).setFollow(true).build())
                    .forEachRemaining(printer::print));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() != Status.Code.CANCELLED || !call.isCancelled()) {
                throw e;
            }
            printer.finish();
            return INTERRUPTED;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupt);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or ran: the call is cancelled, the JVM is exiting.
            }
            call.cancel(null);
        }
        if (!printer.printedAny()) {
            err().println("job " + jobId + " ended without output");
        }
        return printer.finish();
    }

    /**
     * Prints chunks as they come. Headed output gets a rank's header line whenever a stream
     * switches to another rank, so interleaved follow chunks stay attributable; an attempt
     * that follows another is announced on stderr.
     */
    private final class Printer {
        private final boolean headed;
        private final boolean showOut = streams == null || !streams.stderrOnly;
        private final boolean showErr = streams == null || !streams.stdoutOnly;
        private final Section out = new Section(out());
        private final Section err = new Section(err());
        private int attempt;
        private int status;
        private boolean any;

        Printer(boolean headed) {
            this.headed = headed;
        }

        void print(LogChunk chunk) {
            any = true;
            if (attempt != 0 && chunk.getAttempt() != attempt) {
                out.endLine();
                err.endLine();
                err.to.println("==> attempt " + chunk.getAttempt() + " <==");
                err.to.flush();
                out.rank = -1;
                err.rank = -1;
            }
            attempt = chunk.getAttempt();
            if (!chunk.getError().isEmpty()) {
                err.endLine();
                err.to.println("error: rank " + chunk.getRank() + " on " + chunk.getNode() + ": " + chunk.getError());
                err.to.flush();
                status = Errors.FAILED;
            }
            if (showOut) {
                out.write(chunk, chunk.getStdout().toString(StandardCharsets.UTF_8));
            }
            if (showErr) {
                err.write(chunk, chunk.getStderr().toString(StandardCharsets.UTF_8));
            }
        }

        boolean printedAny() {
            return any;
        }

        /** Ends headed sections on a line break and returns the exit code. */
        int finish() {
            out.endLine();
            err.endLine();
            return status;
        }

        private final class Section {
            final PrintWriter to;
            int rank = -1;
            boolean midLine;

            Section(PrintWriter to) {
                this.to = to;
            }

            void write(LogChunk chunk, String text) {
                if (text.isEmpty()) {
                    return;
                }
                if (headed && chunk.getRank() != rank) {
                    endLine();
                    to.println("==> rank " + chunk.getRank() + " on " + chunk.getNode() + " <==");
                }
                rank = chunk.getRank();
                to.print(text);
                midLine = !text.endsWith("\n");
                to.flush();
            }

            /** A header must start on its own line; unheaded output is left exactly as written. */
            void endLine() {
                if (headed && midLine) {
                    to.println();
                    midLine = false;
                }
                to.flush();
            }
        }
    }
}
