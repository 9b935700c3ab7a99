package coop.cli;

import coop.scheduler.domain.ArraySpec;
import coop.scheduler.domain.CoopException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A batch script as sbatch reads one ({@code coop submit job.sh ARGS...}): its {@code #SBATCH} and
 * {@code #COOP} lines before the first command (blank lines and other comments skipped; the
 * shebang first), each turned into the {@code coop submit} options it stands for, and the script
 * itself shipped in the job's command. {@code #COOP} lines hold coop's own submit options as
 * written; {@code #SBATCH} lines a subset of sbatch's ({@link #TABLE}), and an option of sbatch's
 * that coop does not take is a warning, once, naming its line (never dropped unsaid). A malformed
 * value is refused naming the file and line. {@code SubmitCommand} parses each line's options with
 * its own converters, so a script and the command line mean the same by the same words; the
 * command line wins over the script, as with sbatch.
 *
 * <p>The job's command writes the script into the rank's own folder from a quoted here-document
 * and execs it there with its ARGS, with the interpreter its shebang names (bash when none), on
 * every node of the job, after exporting Slurm's common variables from coop's, so that a ported
 * script finds {@code SLURM_JOB_ID}, {@code SLURM_ARRAY_TASK_ID}, {@code SLURM_PROCID} and the
 * like. Nothing outside the job's command need be on the node.
 */
final class BatchScript {

    /** A job's command is at most this long (the scheduler's JobSpec.MAX_COMMAND_BYTES). */
    static final int MAX_COMMAND_BYTES = 64 * 1024;

    /** One directive: its line number, its text as written, and the coop options it stands for. */
    record Directive(int line, String text, List<String> options) {
    }

    /**
     * An {@code #SBATCH -G/--gpus N}: GPUs for the whole job, as Slurm counts them, divided over
     * its nodes once their number is known (the command line's or the script's).
     */
    record JobGpus(int line, String text, int gpus) {
    }

    /** Why a script's line is refused; {@link #getMessage()} names the file and line. */
    static final class Malformed extends CliException {
        Malformed(String where, String text, String why) {
            super(where + ": " + text + ": " + why);
        }
    }

    private final String file;
    private final String text;
    private final boolean shebang;
    private final List<Directive> directives;
    private final List<String> warnings;
    private final JobGpus jobGpus;

    private BatchScript(String file, String text, boolean shebang, List<Directive> directives,
            List<String> warnings, JobGpus jobGpus) {
        this.file = file;
        this.text = text;
        this.shebang = shebang;
        this.directives = directives;
        this.warnings = warnings;
        this.jobGpus = jobGpus;
    }

    /**
     * Whether {@code word}, the first word of a submit with no {@code --} before it, names a batch
     * script: a readable regular file whose first line is a shebang or which has an
     * {@code #SBATCH} or {@code #COOP} line. Anything else is a command, as before.
     */
    static boolean names(String word) {
        Path path;
        try {
            path = Path.of(word);
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            return false;
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(MAX_COMMAND_BYTES);
        } catch (IOException e) {
            return false;
        }
        String start = new String(head, StandardCharsets.UTF_8);
        return start.startsWith("#!") || DIRECTIVE_ANYWHERE.matcher(start).find();
    }

    private static final Pattern DIRECTIVE_ANYWHERE = Pattern.compile("(?m)^#(SBATCH|COOP)(\\s|$)");

    /**
     * Reads the script at {@code path}, named {@code file} in messages (as the user typed it).
     *
     * @throws CliException naming the file (and line) when it cannot be read, is not text, is too
     *     long to travel in a command, or has a malformed directive
     */
    static BatchScript read(Path path, String file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new CliException(file + ": cannot read the batch script: " + e.getMessage());
        }
        if (bytes.length > MAX_COMMAND_BYTES) {
            throw new CliException(file + ": " + bytes.length + " bytes; a batch script travels in the job's command, "
                    + "which is at most 64 KiB (" + MAX_COMMAND_BYTES + " bytes)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new CliException(file + ": not a text file (not UTF-8); a batch script is a shell script");
        }
        if (text.indexOf('\0') >= 0) {
            throw new CliException(file + ": not a text file (it has NUL bytes); a batch script is a shell script");
        }
        if (text.contains("\r\n")) {
            // As sbatch: a script saved on Windows would run with \r at the end of every word.
            throw new CliException(file + ": has DOS line breaks (\\r\\n); convert it with dos2unix first");
        }
        return parse(file, text);
    }

    /** Parses a script's text, named {@code file} in messages. */
    static BatchScript parse(String file, String text) {
        String[] lines = text.split("\n", -1);
        boolean shebang = text.startsWith("#!");
        List<Directive> directives = new ArrayList<>();
        Map<String, Ignored> ignored = new LinkedHashMap<>();
        List<String> late = new ArrayList<>();
        JobGpus jobGpus = null;
        boolean body = false;
        for (int i = shebang ? 1 : 0; i < lines.length; i++) {
            String line = lines[i];
            int number = i + 1;
            String prefix = line.startsWith("#SBATCH") ? "#SBATCH" : line.startsWith("#COOP") ? "#COOP" : null;
            if (prefix != null && line.length() > prefix.length()
                    && !Character.isWhitespace(line.charAt(prefix.length()))) {
                prefix = null;
            }
            if (body) {
                if (prefix != null) {
                    late.add(file + ":" + number + ": " + line.strip() + " ignored: it comes after the first command, "
                            + "where sbatch reads no directive either");
                }
                continue;
            }
            if (prefix == null) {
                String stripped = line.strip();
                body = !stripped.isEmpty() && !stripped.startsWith("#");
                continue;
            }
            String where = file + ":" + number;
            List<String> words = words(line.substring(prefix.length()), where, line.strip());
            if (prefix.equals("#COOP")) {
                if (words.contains("--gpus")) {
                    jobGpus = null;
                }
                directives.add(new Directive(number, line.strip(), words));
                continue;
            }
            Translation t = new Translation(where, line.strip());
            t.sbatch(words, ignored);
            if (t.jobGpus != null) {
                jobGpus = t.jobGpus;
            } else if (t.options.contains("--gpus")) {
                jobGpus = null;
            }
            directives.add(new Directive(number, line.strip(), List.copyOf(t.options)));
        }
        List<String> warnings = new ArrayList<>();
        for (Ignored i : ignored.values()) {
            warnings.add(i.warning());
        }
        warnings.addAll(late);
        return new BatchScript(file, text, shebang, List.copyOf(directives), List.copyOf(warnings), jobGpus);
    }

    /** The file as the user named it. */
    String file() {
        return file;
    }

    /** Its directives, in order, each with the coop options it stands for. */
    List<Directive> directives() {
        return directives;
    }

    /** What it asks that coop does not do: one line each, naming the file and line. */
    List<String> warnings() {
        return warnings;
    }

    /** Its {@code #SBATCH -G/--gpus}, when that is its last word on the number of GPUs; else null. */
    JobGpus jobGpus() {
        return jobGpus;
    }

    /**
     * The job's command: writes the script into the rank's own folder (the folder of
     * {@code $COOP_STOP_REASON_FILE}, the same path in a container), exports Slurm's variables from
     * coop's, and execs the script with {@code args}. Runs under bash or, in a container, the
     * image's /bin/sh, so it is plain POSIX sh.
     *
     * @param array the job's array indices as sent ({@code 0-99:10}), for Slurm's
     *     {@code SLURM_ARRAY_TASK_COUNT/MIN/MAX}; empty for a plain job
     * @throws CliException when the command would be longer than a job's command may be
     */
    String command(List<String> args, String array) {
        String body = text.endsWith("\n") ? text : text + "\n";
        String end = "COOP_BATCH_SCRIPT";
        for (int n = 1; body.contains("\n" + end + "\n") || body.startsWith(end + "\n"); n++) {
            end = "COOP_BATCH_SCRIPT_" + n;
        }
        StringBuilder c = new StringBuilder();
        c.append("d=\"${COOP_STOP_REASON_FILE%/*}\"\n");
        c.append("cat > \"$d/coop-script\" <<'").append(end).append("'\n").append(body).append(end).append('\n');
        c.append("chmod 700 \"$d/coop-script\"\n");
        c.append("export SLURM_JOB_ID=\"$COOP_JOB_ID\" SLURM_JOBID=\"$COOP_JOB_ID\" SLURM_JOB_NAME=\"$COOP_JOB_NAME\" "
                + "SLURM_JOB_ACCOUNT=\"$COOP_ACCOUNT\" SLURM_NNODES=\"$NNODES\" SLURM_JOB_NUM_NODES=\"$NNODES\" "
                + "SLURM_NTASKS=\"$NNODES\" SLURM_NODEID=\"$COOP_RANK\" SLURM_PROCID=\"$COOP_RANK\" SLURM_LOCALID=0 "
                + "SLURM_GPUS_ON_NODE=\"$COOP_GPUS_PER_NODE\" SLURM_JOB_GPUS=\"$CUDA_VISIBLE_DEVICES\" "
                + "SLURM_RESTART_COUNT=\"$((COOP_ATTEMPT - 1))\" SLURM_SUBMIT_DIR=\"$PWD\"\n");
        c.append("[ -z \"${COOP_ARRAY_JOB_ID:-}\" ] || export SLURM_ARRAY_JOB_ID=\"$COOP_ARRAY_JOB_ID\" "
                + "SLURM_ARRAY_TASK_ID=\"$COOP_ARRAY_INDEX\"");
        long[] span = arraySpan(array);
        if (span != null) {
            c.append(" SLURM_ARRAY_TASK_COUNT=").append(span[0]).append(" SLURM_ARRAY_TASK_MIN=").append(span[1])
                    .append(" SLURM_ARRAY_TASK_MAX=").append(span[2]);
        }
        c.append('\n');
        c.append(shebang ? "exec \"$d/coop-script\"" : "exec bash \"$d/coop-script\"");
        for (String a : args) {
            c.append(' ').append(quoted(a));
        }
        c.append('\n');
        String command = c.toString();
        int bytes = command.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_COMMAND_BYTES) {
            throw new CliException(file + ": " + bytes + " bytes with its arguments and coop's wrapper; a batch script "
                    + "travels in the job's command, which is at most 64 KiB (" + MAX_COMMAND_BYTES + " bytes)");
        }
        return command;
    }

    /** {@code text} as one word of sh. */
    static String quoted(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    /**
     * An array's task count, lowest and highest index, read as the scheduler reads it
     * ({@link ArraySpec}); null when it does not read as one (the scheduler says why).
     */
    static long[] arraySpan(String array) {
        if (array.isEmpty()) {
            return null;
        }
        int[] indices;
        try {
            indices = ArraySpec.parse(array);
        } catch (CoopException e) {
            return null;
        }
        return new long[] {indices.length, indices[0], indices[indices.length - 1]};
    }

    /**
     * The words of a directive as sbatch splits them: on blanks, with '...' and "..." quoting and
     * backslash escapes; an unquoted word starting with # ends the line (a comment).
     */
    static List<String> words(String text, String where, String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quote == '\'') {
                if (ch == '\'') {
                    quote = 0;
                } else {
                    word.append(ch);
                }
            } else if (quote == '"') {
                if (ch == '"') {
                    quote = 0;
                } else if (ch == '\\' && i + 1 < text.length() && "\"\\$`".indexOf(text.charAt(i + 1)) >= 0) {
                    word.append(text.charAt(++i));
                } else {
                    word.append(ch);
                }
            } else if (Character.isWhitespace(ch)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else if (ch == '#' && word == null) {
                break;
            } else {
                if (word == null) {
                    word = new StringBuilder();
                }
                if (ch == '\'' || ch == '"') {
                    quote = ch;
                } else if (ch == '\\' && i + 1 < text.length()) {
                    word.append(text.charAt(++i));
                } else {
                    word.append(ch);
                }
            }
        }
        if (quote != 0) {
            throw new Malformed(where, line, "unterminated " + quote + " quote");
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }

    /** An sbatch option coop does not take, warned of once at its first line. */
    private record Ignored(String where, String written, String why, List<Integer> more) {
        String warning() {
            String also = more.isEmpty() ? "" : " (also line" + (more.size() > 1 ? "s " : " ")
                    + String.join(", ", more.stream().map(String::valueOf).toList()) + ")";
            return where + ": #SBATCH " + written + " ignored: " + why + also;
        }
    }

    /** What an sbatch option of the subset becomes: coop options, or for -G the job's GPUs. */
    private enum Kind {
        /** The same value under coop's option. */
        SAME,
        /** --gres=gpu[:MODEL]:N: GPUs per node. */
        GRES,
        /** --gpus-per-node [MODEL:]N. */
        GPUS_PER_NODE,
        /** -G/--gpus [MODEL:]N: GPUs of the whole job. */
        JOB_GPUS,
        /** -N/--nodes N (or N-N). */
        NODES,
        /** -D/--chdir DIR, relative to where the script is submitted, as sbatch. */
        CHDIR,
        /** -t/--time: a duration; UNLIMITED is not one. */
        TIME
    }

    private record SlurmOption(String coop, Kind kind) {
    }

    /**
     * The sbatch options coop reads, by every name sbatch takes them under (short ones too), and
     * the coop submit option each becomes. The documented subset: {@code coop submit --help}.
     */
    static final Map<String, SlurmOption> TABLE = Map.ofEntries(
            Map.entry("-J", new SlurmOption("--name", Kind.SAME)),
            Map.entry("--job-name", new SlurmOption("--name", Kind.SAME)),
            Map.entry("-t", new SlurmOption("--walltime", Kind.TIME)),
            Map.entry("--time", new SlurmOption("--walltime", Kind.TIME)),
            Map.entry("--gres", new SlurmOption("--gpus", Kind.GRES)),
            Map.entry("-G", new SlurmOption("--gpus", Kind.JOB_GPUS)),
            Map.entry("--gpus", new SlurmOption("--gpus", Kind.JOB_GPUS)),
            Map.entry("--gpus-per-node", new SlurmOption("--gpus", Kind.GPUS_PER_NODE)),
            Map.entry("-N", new SlurmOption("--nodes", Kind.NODES)),
            Map.entry("--nodes", new SlurmOption("--nodes", Kind.NODES)),
            Map.entry("-a", new SlurmOption("--array", Kind.SAME)),
            Map.entry("--array", new SlurmOption("--array", Kind.SAME)),
            Map.entry("-A", new SlurmOption("--account", Kind.SAME)),
            Map.entry("--account", new SlurmOption("--account", Kind.SAME)),
            Map.entry("-o", new SlurmOption("--output", Kind.SAME)),
            Map.entry("--output", new SlurmOption("--output", Kind.SAME)),
            Map.entry("-e", new SlurmOption("--error", Kind.SAME)),
            Map.entry("--error", new SlurmOption("--error", Kind.SAME)),
            Map.entry("-d", new SlurmOption("--dependency", Kind.SAME)),
            Map.entry("--dependency", new SlurmOption("--dependency", Kind.SAME)),
            Map.entry("--mail-type", new SlurmOption("--notify", Kind.SAME)),
            Map.entry("--mail-user", new SlurmOption("--notify-to", Kind.SAME)),
            Map.entry("--signal", new SlurmOption("--signal", Kind.SAME)),
            Map.entry("-D", new SlurmOption("--chdir", Kind.CHDIR)),
            Map.entry("--chdir", new SlurmOption("--chdir", Kind.CHDIR)),
            Map.entry("--export", new SlurmOption("--export", Kind.SAME)),
            Map.entry("--mem", new SlurmOption("--mem", Kind.SAME)));

    private static final String ONE_PER_NODE = "coop runs the script once on each node of the job (no srun needed); "
            + "start your processes from it";

    /** Why coop ignores the sbatch options people most often write; others get {@link #UNKNOWN}. */
    private static final Map<String, String> IGNORED = Map.ofEntries(
            Map.entry("--partition", "coop has no partitions; ask for a GPU model with --gres=gpu:MODEL:N"),
            Map.entry("--qos", "coop has no QOS; the cooperative's policy orders the jobs"),
            Map.entry("--ntasks", ONE_PER_NODE),
            Map.entry("--ntasks-per-node", ONE_PER_NODE),
            Map.entry("--tasks-per-node", ONE_PER_NODE),
            Map.entry("--cpus-per-task", "coop gives a rank the CPUs its node's operator gives per GPU"),
            Map.entry("--cpus-per-gpu", "coop gives a rank the CPUs its node's operator gives per GPU"),
            Map.entry("--mem-per-cpu", "coop takes memory per node, with --mem"),
            Map.entry("--mem-per-gpu", "coop takes memory per node, with --mem"),
            Map.entry("--exclusive", "coop shares nodes by GPU; ask for all of a node's GPUs to have it alone"),
            Map.entry("--constraint", "ask for a GPU model with --gres=gpu:MODEL:N"),
            Map.entry("--requeue", "coop requeues a job whose node is lost; #COOP --requeue-on-timeout N requeues at "
                    + "the walltime"),
            Map.entry("--no-requeue", "coop requeues a job whose node is lost"),
            Map.entry("--nodelist", "coop places jobs itself"),
            Map.entry("--exclude", "coop places jobs itself"),
            Map.entry("--reservation", "coop has no reservations of Slurm's kind"),
            Map.entry("--time-min", "coop runs a job for its -t"),
            Map.entry("--gres-flags", "coop binds each rank to its own GPUs"),
            Map.entry("--gpu-bind", "coop binds each rank to its own GPUs"),
            Map.entry("--open-mode", "coop appends to -o and -e files"));

    /** The long names of sbatch's short options, so that -p and --partition are one option in warnings. */
    private static final Map<String, String> SHORT = Map.of("-p", "--partition", "-q", "--qos", "-n", "--ntasks",
            "-c", "--cpus-per-task", "-C", "--constraint", "-w", "--nodelist", "-x", "--exclude");

    private static final String UNKNOWN = "coop does not take this sbatch option";

    /** Options that take no value, so that the word after one is not read as its value. */
    private static final java.util.Set<String> FLAGS = java.util.Set.of("--exclusive", "--requeue", "--no-requeue",
            "--parsable", "--hold", "-H", "--wait", "-W", "--overcommit", "-O", "--contiguous", "--spread-job",
            "--test-only", "--quiet", "-Q", "--verbose", "-v", "--no-kill", "-k", "--oversubscribe", "-s",
            "--use-min-nodes", "--ignore-pbs", "--get-user-env", "--kill-on-invalid-dep", "--reboot");

    private static final Pattern GRES_GPU = Pattern.compile("gpu(?::([^:,]+))?(?::(\\d+))?");
    private static final Pattern MODEL_COUNT = Pattern.compile("(?:([^:]+):)?(\\d+)");
    private static final Pattern NODE_RANGE = Pattern.compile("(\\d+)(?:-(\\d+))?");

    /** One #SBATCH line being turned into coop options. */
    private static final class Translation {
        final String where;
        final String line;
        final List<String> options = new ArrayList<>();
        JobGpus jobGpus;

        Translation(String where, String line) {
            this.where = where;
            this.line = line;
        }

        void sbatch(List<String> words, Map<String, Ignored> ignored) {
            for (int i = 0; i < words.size(); i++) {
                String word = words.get(i);
                if (!word.startsWith("-") || word.equals("-") || word.equals("--")) {
                    throw new Malformed(where, line, "'" + word + "' is not an option (sbatch's arguments to the "
                            + "script go after its name: coop submit job.sh ARGS)");
                }
                String name;
                String value = null;
                if (word.startsWith("--")) {
                    int eq = word.indexOf('=');
                    name = eq < 0 ? word : word.substring(0, eq);
                    value = eq < 0 ? null : word.substring(eq + 1);
                } else {
                    name = word.substring(0, 2);
                    value = word.length() > 2 ? word.substring(2) : null;
                }
                String written = word;
                SlurmOption option = TABLE.get(name);
                if (option == null) {
                    if (value == null && !FLAGS.contains(name) && i + 1 < words.size()
                            && !words.get(i + 1).startsWith("-")) {
                        written = word + " " + words.get(++i);
                    }
                    String key = SHORT.getOrDefault(name, name);
                    String why = IGNORED.getOrDefault(key, UNKNOWN);
                    int number = Integer.parseInt(where.substring(where.lastIndexOf(':') + 1));
                    Ignored before = ignored.get(key);
                    if (before == null) {
                        ignored.put(key, new Ignored(where, written, why, new ArrayList<>()));
                    } else {
                        before.more().add(number);
                    }
                    continue;
                }
                if (value == null) {
                    if (i + 1 >= words.size()) {
                        throw new Malformed(where, line, name + " needs a value");
                    }
                    value = words.get(++i);
                    written = word + " " + value;
                }
                translate(option, name, value, written);
            }
        }

        private void translate(SlurmOption option, String name, String value, String written) {
            String v = value.strip();
            switch (option.kind()) {
                case SAME -> add(option.coop(), v);
                case TIME -> {
                    if (v.equalsIgnoreCase("UNLIMITED") || v.equalsIgnoreCase("INFINITE")) {
                        throw new Malformed(where, "#SBATCH " + written, "a coop job ends at a walltime; leave -t "
                                + "out for the policy's default");
                    }
                    add("--walltime", v);
                }
                case GRES -> {
                    for (String item : v.split(",")) {
                        if (!item.startsWith("gpu")) {
                            throw new Malformed(where, "#SBATCH " + written, "coop schedules GPUs only: --gres="
                                    + "gpu[:MODEL]:N");
                        }
                        Matcher m = GRES_GPU.matcher(item);
                        if (!m.matches()) {
                            throw new Malformed(where, "#SBATCH " + written, "'" + item + "' is not gpu[:MODEL]:N "
                                    + "(for example gpu:a100:2 or gpu:4)");
                        }
                        String model = m.group(2) == null && m.group(1) != null && m.group(1).matches("\\d+")
                                ? null : m.group(1);
                        String count = m.group(2) != null ? m.group(2)
                                : m.group(1) != null && m.group(1).matches("\\d+") ? m.group(1) : "1";
                        gpus(count, model);
                    }
                }
                case GPUS_PER_NODE -> {
                    Matcher m = modelCount(name, v, written);
                    gpus(m.group(2), m.group(1));
                }
                case JOB_GPUS -> {
                    Matcher m = modelCount(name, v, written);
                    int n = positive(m.group(2), written);
                    if (m.group(1) != null) {
                        add("--gpu-model", m.group(1));
                    }
                    jobGpus = new JobGpus(Integer.parseInt(where.substring(where.lastIndexOf(':') + 1)),
                            "#SBATCH " + written, n);
                }
                case NODES -> {
                    Matcher m = NODE_RANGE.matcher(v);
                    if (!m.matches()) {
                        throw new Malformed(where, "#SBATCH " + written, "'" + v + "' is not a number of nodes");
                    }
                    if (m.group(2) != null && !m.group(2).equals(m.group(1))) {
                        throw new Malformed(where, "#SBATCH " + written, "coop places a fixed number of nodes: give "
                                + "one (-N " + m.group(1) + "), not a range");
                    }
                    add("--nodes", m.group(1));
                }
                case CHDIR -> add("--chdir", v.startsWith("/") ? v
                        : Path.of("").toAbsolutePath().resolve(v).normalize().toString());
                default -> throw new IllegalStateException(option.kind().name());
            }
        }

        private Matcher modelCount(String name, String v, String written) {
            Matcher m = MODEL_COUNT.matcher(v);
            if (!m.matches()) {
                throw new Malformed(where, "#SBATCH " + written, "'" + v + "' is not [MODEL:]N (for example a100:2 "
                        + "or 4)");
            }
            return m;
        }

        private int positive(String digits, String written) {
            try {
                int n = Integer.parseInt(digits);
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new Malformed(where, "#SBATCH " + written, "the number of GPUs must be at least 1");
        }

        private void gpus(String count, String model) {
            add("--gpus", count);
            if (model != null) {
                add("--gpu-model", model);
            }
            jobGpus = null;
        }

        private void add(String option, String value) {
            options.add(option);
            options.add(value);
        }
    }
}
