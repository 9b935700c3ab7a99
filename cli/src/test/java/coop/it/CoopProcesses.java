package coop.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts the real {@code coop} jar as separate processes (scheduler, agents, CLI calls) and
 * ends exactly the processes it started.
 */
final class CoopProcesses implements AutoCloseable {
    private final Path dir;
    private final List<Process> started = new ArrayList<>();
    private int logs;

    CoopProcesses(Path dir) {
        this.dir = dir;
    }

    static String jar() {
        String jar = System.getProperty("coop.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("system property coop.jar must name the shaded jar (run with mvn verify)");
        }
        return jar;
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", jar(), coop.cli.Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * A short CLI call as the {@code ./coop} launcher makes it where the build unpacked Netty's
     * TLS library: with that library (OpenSSL) rather than the JDK's TLS, which is what a call
     * made with {@link #command} alone gets.
     */
    static List<String> shortCall(String... args) {
        List<String> cmd = command(args);
        Path natives = Path.of(jar()).resolveSibling("native");
        if (Files.isDirectory(natives)) {
            cmd.addAll(1, List.of("-Djava.library.path=" + natives,
                    "-Dio.grpc.netty.shaded.io.netty.handler.ssl.noOpenSsl=false"));
        }
        return cmd;
    }

    /** Starts a long-running coop process (scheduler or agent); its output goes to a log file. */
    Process start(String... args) throws IOException {
        Path log = dir.resolve("process-" + (++logs) + "-" + args[0] + ".log");
        Process p = new ProcessBuilder(command(args)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return p;
    }

    /** Runs a coop CLI command to completion and returns its exit code and output. */
    Result run(String... args) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(60), args);
    }

    /** Runs a coop CLI command that may take longer than a minute (a short benchmark) to completion. */
    Result run(Duration patience, String... args) throws IOException, InterruptedException {
        return run(patience, shortCall(args), args);
    }

    /**
     * Runs a coop CLI command to completion with the JDK's TLS, as a call gets it without the
     * unpacked TLS library (another {@code COOP_JAR}, a build that did not unpack it).
     */
    Result runWithJdkTls(String... args) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(60), command(args), args);
    }

    /** Runs a coop CLI command to completion with {@code env} added to its environment. */
    Result runWithEnv(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(60), shortCall(args), env, args);
    }

    private Result run(Duration patience, List<String> command, String... args)
            throws IOException, InterruptedException {
        return run(patience, command, Map.of(), args);
    }

    private Result run(Duration patience, List<String> command, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        Path out = dir.resolve("cli-" + (++logs) + ".out");
        Path err = dir.resolve("cli-" + logs + ".err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().putAll(env);
        Process p = builder.start();
        started.add(p);
        if (!p.waitFor(patience.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("coop " + String.join(" ", args) + " did not finish in "
                    + patience.toSeconds() + " s");
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    record Result(int exitCode, String stdout, String stderr) {
    }

    /**
     * Starts a coop CLI command that the test watches while it runs (such as {@code coop logs -f});
     * its stdout and stderr go to files the test reads as they grow.
     */
    Watched watch(String... args) throws IOException {
        Path out = dir.resolve("cli-" + (++logs) + ".out");
        Path err = dir.resolve("cli-" + logs + ".err");
        Process p = new ProcessBuilder(shortCall(args)).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        started.add(p);
        return new Watched(p, out, err);
    }

    record Watched(Process process, Path stdoutFile, Path stderrFile) {
        String stdout() throws IOException {
            return Files.readString(stdoutFile);
        }

        String stderr() throws IOException {
            return Files.readString(stderrFile);
        }
    }

    /** Starts a scheduler on port 0 and returns its port, read from --port-file. */
    Scheduler scheduler(Path data, String... extra) throws IOException {
        Path portFile = dir.resolve("port-" + System.nanoTime());
        List<String> args = new ArrayList<>(List.of("scheduler", "--data", data.toString(), "--listen", "127.0.0.1:0",
                "--heartbeat", "1s", "--port-file", portFile.toString()));
        args.addAll(List.of(extra));
        Process p = start(args.toArray(String[]::new));
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(portFile) || !p.isAlive());
        if (!p.isAlive()) {
            throw new IllegalStateException("scheduler exited with " + p.exitValue());
        }
        return new Scheduler(p, Integer.parseInt(Files.readString(portFile).strip()));
    }

    record Scheduler(Process process, int port) {
        String target() {
            return "127.0.0.1:" + port;
        }
    }

    /**
     * Enrolls a node as an operator member would (coop node enroll) and starts its agent with
     * the node identity file it got.
     */
    Process agent(String target, Path operator, String account, String node, String site, String gpus, Path workDir)
            throws IOException, InterruptedException {
        return agent(target, operator, account, node, site, gpus, workDir, DEVELOPMENT);
    }

    /**
     * How the tests' agents run ranks unless a test says otherwise: process groups as the agent's
     * user, as in development. The tests run as root in CI; confinement has tests of its own.
     */
    /**
     * A test's prerequisite (root, runc, podman, local users): where {@code COOP_REQUIRE_PREREQS=1}
     * (CI, which installs them) a missing one fails the test; elsewhere the test is skipped saying
     * what it needs.
     */
    static void require(boolean present, String what) {
        if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
            org.assertj.core.api.Assertions.assertThat(present).as("this test needs " + what + "; .ci/run provides it")
                    .isTrue();
        }
        org.assertj.core.api.Assumptions.assumeThat(present)
                .as("skipped: needs " + what + " (run as root with it, as .ci/run does)").isTrue();
    }

    static final List<String> DEVELOPMENT = List.of("--isolation", "none", "--allow-root-jobs");

    /** As above, with {@code confinement} for the flags that say how ranks run ({@link #DEVELOPMENT}'s). */
    Process agent(String target, Path operator, String account, String node, String site, String gpus, Path workDir,
                  List<String> confinement) throws IOException, InterruptedException {
        Path identity = dir.resolve(node + ".node.json");
        Result enrolled = run("node", "enroll", "--scheduler", target, "--identity", operator.toString(), "--name", node,
                "--site", site, "--account", account, "--out", identity.toString());
        if (enrolled.exitCode() != 0) {
            throw new IllegalStateException("coop node enroll " + node + " failed: " + enrolled.stderr());
        }
        return restartAgent(target, node, gpus, workDir, confinement);
    }

    /** Starts the agent of a node enrolled by {@link #agent} again, with the same identity and work directory. */
    Process restartAgent(String target, String node, String gpus, Path workDir) throws IOException {
        return restartAgent(target, node, gpus, workDir, DEVELOPMENT);
    }

    private Process restartAgent(String target, String node, String gpus, Path workDir, List<String> confinement)
            throws IOException {
        List<String> args = new java.util.ArrayList<>(List.of("agent", "--identity",
                dir.resolve(node + ".node.json").toString(), "--scheduler", target, "--gpus", gpus, "--work-dir",
                workDir.toString()));
        args.addAll(confinement);
        return start(args.toArray(String[]::new));
    }

    /**
     * Gives an admitted newcomer its TLS certificate, as people do it: a member runs
     * {@code coop member certify} on the newcomer's public file, the newcomer installs the result.
     */
    void certify(String target, Path member, Path pubFile, Path newcomer) throws IOException, InterruptedException {
        Result certify = run("member", "certify", "--scheduler", target, "--identity", member.toString(), "--from",
                pubFile.toString());
        if (certify.exitCode() != 0) {
            throw new IllegalStateException("coop member certify failed: " + certify.stderr());
        }
        String name = pubFile.getFileName().toString().replace(".pub.json", "");
        Result install = run("member", "install-certificate", pubFile.resolveSibling(name + ".cert.json").toString(),
                "--identity", newcomer.toString());
        if (install.exitCode() != 0) {
            throw new IllegalStateException("coop member install-certificate failed: " + install.stderr());
        }
    }

    /** Copies a data directory (without RocksDB's lock file) so a test can tamper with the copy. */
    static void copyData(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** Changes one digit in the ledger entry {@code seq} of a stopped store; returns the entry's number. */
    static long flipLedgerByte(Path data, long seq) {
        try (coop.scheduler.store.Store store = coop.scheduler.store.Store.open(data)) {
            byte[][] entry = new byte[1][];
            store.scanRaw(coop.scheduler.store.Store.Kind.LEDGER, seq, (s, bytes) -> {
                entry[0] = bytes.clone();
                return false;
            });
            for (int i = entry[0].length - 1; i >= 0; i--) {
                if (entry[0][i] >= '0' && entry[0][i] <= '8') {
                    entry[0][i]++;
                    break;
                }
            }
            store.putRawForTest(coop.scheduler.store.Store.Kind.LEDGER, coop.scheduler.store.Store.key(seq), entry[0]);
            return seq;
        }
    }

    @Override
    public void close() {
        for (Process p : started) {
            p.destroy();
        }
        for (Process p : started) {
            try {
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
