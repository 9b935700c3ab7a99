package coop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * The training run behind the jar's class-data-sharing archive ({@code coop.jsa}, see the bench
 * pom): one JVM started with {@code -XX:DumpLoadedClassList} that goes through what
 * researchers' short calls go through, so that the static archive made from that list holds
 * the classes they need already parsed and verified. It founds a throw-away cooperative in a folder, runs its scheduler in a
 * process of its own on a free port of 127.0.0.1 with mutual TLS, and makes real calls through the same
 * command line as {@link Main}: help texts, {@code submit}, {@code jobs}, {@code job},
 * {@code nodes}, {@code usage} and {@code cancel}, plain and {@code --json}, with the
 * {@link TlsWarmUp} that {@link Main#main} starts for them running beside. Nothing of it
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

    private static void train(Path dir, List<String> failed) throws IOException, InterruptedException {
        Main.preferShortLivedSetUp("submit");
        TlsWarmUp.start();
        run(failed, "--help");
        run(failed, "help", "submit");
        run(failed, "submit", "--help");
        run(failed, "jobs", "--help");
        run(failed, "sbumit");

        Path data = dir.resolve("data");
        Files.createDirectories(dir);
        run(failed, "init", "--data", data.toString(), "--founders", "trainer", "--accounts", "training");
        // In a process of its own, so that the classes it loads stay out of the list: the archive
        // then holds what short calls use and nothing else, and a smaller archive maps faster.
        SchedulerProcess scheduler = SchedulerProcess.launch("the training scheduler", data, dir.resolve("port"),
                dir.resolve("scheduler.log"), List.of(), List.of());
        try {
            String[] as = {"--scheduler", scheduler.awaitServing(Duration.ofSeconds(60)),
                    "--identity", data.resolve("identities/trainer.json").toString()};
            run(failed, with(as, "submit", "--account", "training", "--gpus", "1", "--name", "warm-up", "--",
                    "python", "train.py"));
            run(failed, with(as, "submit", "--account", "training", "--gpus", "2", "--nodes", "2", "--walltime",
                    "1h", "--json", "--", "true"));
            // A batch script, as a researcher coming from Slurm submits one.
            Path script = Files.writeString(dir.resolve("job.sh"), "#!/bin/bash\n#SBATCH -J warm-up -t 1:00:00\n"
                    + "#SBATCH --gres=gpu:1 -A training\n#SBATCH --partition=gpu\npython train.py \"$@\"\n");
            // The common options before the script: what follows it is the script's.
            run(failed, "submit", as[0], as[1], as[2], as[3], "--parsable", script.toString(), "--lr", "3e-4");
            run(failed, with(as, "jobs"));
            run(failed, with(as, "jobs", "--json"));
            run(failed, with(as, "job", "1"));
            run(failed, with(as, "job", "1", "--json"));
            run(failed, with(as, "nodes"));
            run(failed, with(as, "usage"));
            run(failed, with(as, "cancel", "2"));
            run(failed, with(as, "history"));
            // A refusal: the error path prints the scheduler's reason.
            runExpectingFailure(failed, with(as, "submit", "--account", "nobody", "--gpus", "1", "--", "true"));
        } finally {
            scheduler.stop();
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
