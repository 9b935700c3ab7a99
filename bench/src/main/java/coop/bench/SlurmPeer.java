package coop.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * The Slurm peer script ({@value #SCRIPT}) run beside a coop bench in the same run: one phase,
 * chosen by its environment, and one figure read from the summary line it prints last
 * ({@code slurm version=... NAME=VALUE ...}). A bench that can do so takes its options as a
 * {@code @Mixin}.
 */
final class SlurmPeer {
    static final String SCRIPT = "../shared/peers/slurm/bench.sh";

    @Option(names = "--with-slurm", description = "Also measure Slurm on the same work in the same run, with the "
            + "peer script (--slurm-script; needs root, installs Slurm with apt-get if missing), and print its figure "
            + "beside coop's.")
    boolean enabled;

    @Option(names = "--slurm-script", defaultValue = SCRIPT, description = "The Slurm peer script (default: "
            + "${DEFAULT-VALUE}, from the repository root).")
    Path slurmScript;

    /** Slurm's figure, or why there is none; both null without {@code --with-slurm}. */
    record Figure(Double value, String problem) {
        /**
         * Whether the measurement was asked for and did not run; if so, says why on {@code err}
         * as {@code bench} (the bench then exits 1, after printing its own figures).
         */
        boolean failed(String bench, PrintWriter err) {
            if (problem == null) {
                return false;
            }
            err.println(bench + ": the Slurm measurement did not run: " + problem);
            err.flush();
            return true;
        }
    }

    /**
     * With {@code --with-slurm}, runs the script with {@code settings} ({@code NAME=VALUE}) added
     * to its environment (see {@link #run}) and returns the figure it gives, or why it could not:
     * a failed Slurm measurement does not discard coop's, which the bench still prints.
     */
    Figure measure(String figure, PrintWriter progress, String... settings) throws InterruptedException {
        if (!enabled) {
            return new Figure(null, null);
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String s : settings) {
            env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        }
        try {
            return new Figure(run(slurmScript, env, figure, progress), null);
        } catch (IOException | RuntimeException e) {
            return new Figure(null, e.getMessage());
        }
    }

    /**
     * Runs {@code script} with {@code env} added to its environment, echoing its output to
     * {@code progress}, and returns the value its summary line gives {@code figure}.
     */
    private static double run(Path script, Map<String, String> env, String figure, PrintWriter progress)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(script)) {
            throw new IOException("no Slurm peer script at " + script.toAbsolutePath().normalize()
                    + " (run from the repository root, or give --slurm-script)");
        }
        StringBuilder settings = new StringBuilder();
        env.forEach((k, v) -> settings.append(settings.length() == 0 ? "" : " ").append(k).append('=').append(v));
        progress.printf("running %s with %s (needs root; installs Slurm with apt-get if missing)%n", script, settings);
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Pattern value = Pattern.compile(Pattern.quote(figure) + "=([0-9.]+)");
        Process p = pb.start();
        String rate = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                progress.println("  slurm: " + line);
                progress.flush();
                Matcher m = value.matcher(line);
                if (line.startsWith("slurm ") && m.find()) {
                    rate = m.group(1);
                }
            }
        } finally {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroy();
            }
        }
        if (p.exitValue() != 0) {
            throw new IOException(script + " exited with " + p.exitValue() + " (see its output above)");
        }
        if (rate == null) {
            throw new IOException(script + " printed no " + figure);
        }
        return Double.parseDouble(rate);
    }
}
