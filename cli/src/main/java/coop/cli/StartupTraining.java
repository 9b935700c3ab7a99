package coop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * The training run behind the jar's class-data-sharing archive ({@code coop.jsa}, see the cli
 * pom): one JVM started with {@code -XX:DumpLoadedClassList} that goes through what
 * researchers' short calls go through, so that the static archive made from that list holds
 * the classes they need already parsed and verified. It founds a throw-away cooperative in a folder, runs its scheduler in a
 * process of its own on a free port of 127.0.0.1 with mutual TLS, and makes real calls through the same
 * command line as {@link Main}: help texts, {@code submit}, {@code jobs}, {@code job},
 * {@code nodes}, {@code usage} and {@code cancel}, plain and {@code --json}. Nothing of it
 * outlives the run but the archive. A failing step is reported and the rest still run; the
 * exit code is always 0, because a missing or partial archive only makes start-up slower.
 */
public final class StartupTraining {

    private StartupTraining() {
    }

    /** {@code args[0]}: an empty folder to found the throw-away cooperative in. */
    public static void main(String[] args) {
        List<String> failed = new ArrayList<>();
        try {
            train(Path.of(args[0]), failed);
        } catch (Throwable e) {
            failed.add("training stopped: " + e);
        }
        System.out.println(failed.isEmpty() ? "startup training: every step passed"
                : "startup training: " + String.join("; ", failed));
        System.exit(0);
    }

    private static void train(Path dir, List<String> failed) throws IOException {
        Main.preferShortLivedNetty("submit");
        run(failed, "--help");
        run(failed, "help", "submit");
        run(failed, "submit", "--help");
        run(failed, "jobs", "--help");
        run(failed, "sbumit");

        Path data = dir.resolve("data");
        Files.createDirectories(dir);
        run(failed, "init", "--data", data.toString(), "--founders", "trainer", "--accounts", "training");
        Process scheduler = startScheduler(data, dir.resolve("port"), dir.resolve("scheduler.log"));
        try {
            String[] as = {"--scheduler", "127.0.0.1:" + awaitPort(scheduler, dir.resolve("port")),
                    "--identity", data.resolve("identities/trainer.json").toString()};
            run(failed, with(as, "submit", "--account", "training", "--gpus", "1", "--name", "warm-up", "--",
                    "python", "train.py"));
            run(failed, with(as, "submit", "--account", "training", "--gpus", "2", "--nodes", "2", "--walltime",
                    "1h", "--json", "--", "true"));
            run(failed, with(as, "jobs"));
            run(failed, with(as, "jobs", "--json"));
            run(failed, with(as, "job", "1"));
            run(failed, with(as, "job", "1", "--json"));
            run(failed, with(as, "nodes"));
            run(failed, with(as, "usage"));
            run(failed, with(as, "cancel", "2"));
            // A refusal: the error path prints the scheduler's reason.
            runExpectingFailure(failed, with(as, "submit", "--account", "nobody", "--gpus", "1", "--", "true"));
        } finally {
            stop(scheduler);
        }
    }

    /**
     * The cooperative's scheduler, in a process of its own (this JVM's java and class path) so
     * that the classes it loads stay out of the list: the archive then holds what short calls
     * use and nothing else, and a smaller archive maps faster in every call.
     */
    private static Process startScheduler(Path data, Path portFile, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "scheduler", "--data", data.toString(), "--listen", "127.0.0.1:0", "--port-file", portFile.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String awaitPort(Process scheduler, Path portFile) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.isRegularFile(portFile) || Files.readString(portFile).isBlank()) {
            if (!scheduler.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("the training scheduler wrote no port (exit "
                        + (scheduler.isAlive() ? "none yet" : scheduler.exitValue()) + ")");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the training scheduler", e);
            }
        }
        return Files.readString(portFile).strip();
    }

    /** Stops the scheduler this run started (SIGTERM, then SIGKILL after 20 s). */
    private static void stop(Process scheduler) {
        scheduler.destroy();
        try {
            if (!scheduler.waitFor(20, TimeUnit.SECONDS)) {
                scheduler.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            scheduler.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String[] with(String[] common, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        int at = all.indexOf("--");
        all.addAll(at < 0 ? all.size() : at, List.of(common));
        return all.toArray(String[]::new);
    }

    private static void run(List<String> failed, String... args) {
        StringWriter err = new StringWriter();
        int code = execute(err, args);
        // The mistyped name exits 2 by design; everything else must succeed.
        boolean expected = args[0].equals("sbumit") ? code == 2 : code == 0;
        if (!expected) {
            failed.add("coop " + String.join(" ", args) + " exited " + code + ": " + err.toString().strip());
        }
    }

    private static void runExpectingFailure(List<String> failed, String... args) {
        if (execute(new StringWriter(), args) == 0) {
            failed.add("coop " + String.join(" ", args) + " succeeded");
        }
    }

    private static int execute(StringWriter err, String... args) {
        CommandLine commandLine = Main.commandLine(args);
        commandLine.setOut(new PrintWriter(Writer.nullWriter()));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }
}
