package coop.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code coop submit --export} and {@code --env-file} send as the job's environment, as
 * Slurm's {@code --export} does: {@code ALL} (the default) the submitter's environment less the
 * deny list, {@code NONE} nothing, or named variables ({@code NAME} takes the submitter's value,
 * {@code NAME=VALUE} its own; {@code ALL,NAME=VALUE} adds to ALL). An env file's
 * {@code KEY=VALUE} lines come last and win. The scheduler checks the same bounds; checked here,
 * the error names the option typed.
 *
 * <p>The deny list keeps what {@code ALL} would send by accident: the credentials and sockets of
 * the submitter's session, and what the node sets for itself. A variable named explicitly is sent
 * as asked, except coop's own ({@code COOP_*}).
 */
final class ExportedEnvironment {
    /** Sent by no {@code --export ALL}: the session's sockets and credentials, and what the node sets itself. */
    static final List<String> DENIED_NAMES = List.of("SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION",
            "SSH_CLIENT", "SSH_TTY", "GPG_AGENT_INFO", "KRB5CCNAME", "XAUTHORITY", "DISPLAY",
            "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_SESSION_ID", "HOME", "USER", "LOGNAME", "MAIL",
            "PWD", "OLDPWD", "SHLVL", "_", "TERM", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES");
    /** Name prefixes ALL does not send: coop's own, and cloud providers' credentials and settings. */
    static final List<String> DENIED_PREFIXES = List.of("COOP_", "AWS_", "AZURE_", "GOOGLE_", "GCLOUD_");
    /** Name parts ALL does not send, anywhere in the name, in any case: what secrets are called. */
    static final List<String> DENIED_PARTS = List.of("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL",
            "PRIVATE", "APIKEY", "API_KEY");
    /** Name endings ALL does not send: {@code *_KEY} (a key, not a keyboard layout: those end in LAYOUT). */
    static final List<String> DENIED_SUFFIXES = List.of("_KEY", "_PAT");

    static final String NAME = "[A-Za-z_][A-Za-z0-9_]{0,255}";
    static final int MAX_VALUE_BYTES = 4 * 1024;
    static final int MAX_TOTAL_BYTES = 64 * 1024;

    /** The text of the deny list, for {@code --help} and the README. */
    static final String DENY_TEXT = "ALL leaves out COOP_*, AWS_*, AZURE_*, GOOGLE_*, GCLOUD_*, names containing TOKEN, "
            + "SECRET, PASSWORD, PASSWD, CREDENTIAL, PRIVATE, APIKEY or API_KEY, names ending _KEY or _PAT, "
            + "SSH_AUTH_SOCK and the session's other sockets, HOME, USER, LOGNAME, PWD, TERM and CUDA_VISIBLE_DEVICES";

    private ExportedEnvironment() {
    }

    /** Whether {@code --export ALL} leaves the variable out. */
    static boolean denied(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return DENIED_NAMES.contains(name) || DENIED_PREFIXES.stream().anyMatch(upper::startsWith)
                || DENIED_PARTS.stream().anyMatch(upper::contains) || DENIED_SUFFIXES.stream().anyMatch(upper::endsWith);
    }

    /**
     * The environment {@code --export SPEC} and {@code --env-file FILE} (null for none) send, from
     * the submitter's {@code own} variables.
     *
     * @throws CliException naming the option and the rule a bad value breaks
     */
    static Map<String, String> of(String spec, Path envFile, Map<String, String> own) {
        Map<String, String> env = new TreeMap<>();
        String text = spec == null ? "ALL" : spec.strip();
        if (text.equals("NONE")) {
            // Nothing of the submitter's.
        } else {
            for (String item : text.split(",", -1)) {
                if (item.equals("ALL")) {
                    own.forEach((k, v) -> {
                        // Exported shell functions (BASH_FUNC_f%%) and other odd names are not variables a job reads.
                        if (k.matches(NAME) && !denied(k)) {
                            env.put(k, v);
                        }
                    });
                    continue;
                }
                int eq = item.indexOf('=');
                String name = eq < 0 ? item : item.substring(0, eq);
                if (!name.matches(NAME)) {
                    throw new CliException("--export: '" + name + "' is not a variable name (" + NAME
                            + "); give ALL, NONE or NAME[=VALUE],...");
                }
                String value = eq < 0 ? own.get(name) : item.substring(eq + 1);
                if (value == null) {
                    throw new CliException("--export: " + name + " is not set in your environment; give "
                            + name + "=VALUE");
                }
                env.put(name, value);
            }
        }
        if (envFile != null) {
            env.putAll(readFile(envFile));
        }
        long total = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith("COOP_")) {
                throw new CliException("--export: " + e.getKey() + ": names starting with COOP_ are coop's own");
            }
            int bytes = e.getValue().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_VALUE_BYTES) {
                throw new CliException("--export: " + e.getKey() + " is " + bytes + " bytes; a value may have at most "
                        + MAX_VALUE_BYTES + " (use --export NONE or name the variables to send)");
            }
            total += e.getKey().length() + bytes + 2;
        }
        if (total > MAX_TOTAL_BYTES) {
            throw new CliException("--export: the environment is " + total + " bytes; at most " + MAX_TOTAL_BYTES
                    + " may be sent (use --export NONE or name the variables to send)");
        }
        return env;
    }

    /** What an image sets for itself, which ALL does not send to a container job: the host's would not fit it. */
    static final List<String> IMAGE_OWN = List.of("PATH", "LD_LIBRARY_PATH");

    /**
     * As {@link #of}, for a job that runs in a container: ALL also leaves out {@link #IMAGE_OWN}
     * and values over several lines (a container's environment file takes one line each), unless
     * {@code --export} or the env file names them.
     */
    static Map<String, String> forContainer(String spec, Path envFile, Map<String, String> own) {
        Map<String, String> env = new TreeMap<>(of(spec, envFile, own));
        java.util.Set<String> named = new java.util.HashSet<>();
        for (String item : (spec == null ? "ALL" : spec.strip()).split(",", -1)) {
            int eq = item.indexOf('=');
            named.add(eq < 0 ? item : item.substring(0, eq));
        }
        if (envFile != null) {
            named.addAll(readFile(envFile).keySet());
        }
        env.entrySet().removeIf(e -> !named.contains(e.getKey())
                && (IMAGE_OWN.contains(e.getKey()) || e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\r') >= 0));
        return env;
    }

    /**
     * An env file's variables: {@code KEY=VALUE} lines, the value taken as written (no quotes
     * removed, as Docker's {@code --env-file}); blank lines and lines starting with # are skipped,
     * and a leading {@code export } is allowed.
     */
    static Map<String, String> readFile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CliException("--env-file: cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> env = new TreeMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring("export ".length()).strip();
            }
            int eq = line.indexOf('=');
            String name = eq < 0 ? line : line.substring(0, eq);
            if (eq < 0 || !name.matches(NAME)) {
                throw new CliException("--env-file: " + file + " line " + (i + 1) + ": expected NAME=VALUE with NAME "
                        + "matching " + NAME);
            }
            env.put(name, line.substring(eq + 1));
        }
        return env;
    }
}
