package coop.scheduler.domain;

/**
 * What a job asks beyond its shape and its command, as a Slurm user writes it: the jobs it waits
 * for ({@code dependency}, Slurm's {@code --dependency} text), who is told when it ends and where
 * ({@code notifyOn}, {@code notifyTo}), the memory each rank may use ({@code memMb}, 0 for the
 * node's default) and the files its output goes to on the node ({@code output}, {@code error},
 * with Slurm's {@code %j}-style patterns), and for an array's tasks how many of them may run at once
 * ({@code arrayMaxRunning}, Slurm's {@code --array=0-99%10}; 0 for no limit). Stored with the job;
 * records stored before it existed read it as {@link #NONE}, and before the throttle, 0.
 */
public record JobOptions(String dependency, String notifyOn, String notifyTo, long memMb, String output,
                         String error, int arrayMaxRunning) {
    public static final JobOptions NONE = new JobOptions("", "", "", 0, "", "", 0);
    /** Most memory a rank may ask for: 64 TiB, in MiB. */
    public static final long MAX_MEM_MB = 64L * 1024 * 1024;
    /** Longest output or error pattern, in UTF-8 bytes (Linux's PATH_MAX). */
    public static final int MAX_PATH_BYTES = 4096;

    public JobOptions {
        dependency = dependency == null ? "" : dependency;
        notifyOn = notifyOn == null ? "" : notifyOn;
        notifyTo = notifyTo == null ? "" : notifyTo;
        output = output == null ? "" : output;
        error = error == null ? "" : error;
    }

    /** Options without an array throttle. */
    public JobOptions(String dependency, String notifyOn, String notifyTo, long memMb, String output, String error) {
        this(dependency, notifyOn, notifyTo, memMb, output, error, 0);
    }

    public JobOptions withDependency(String text) {
        return new JobOptions(text, notifyOn, notifyTo, memMb, output, error, arrayMaxRunning);
    }

    public JobOptions withArrayMaxRunning(int most) {
        return new JobOptions(dependency, notifyOn, notifyTo, memMb, output, error, most);
    }

    public JobOptions withNotify(String events, String to) {
        return new JobOptions(dependency, events, to, memMb, output, error, arrayMaxRunning);
    }

    /**
     * The memory and the output files if each meets its rule: memory 0 (the node's default) to
     * {@link #MAX_MEM_MB}; a pattern at most {@link #MAX_PATH_BYTES} without control characters,
     * each {@code %} followed by one of {@code j A a x t N %}.
     */
    public JobOptions checkedFiles() {
        if (memMb < 0 || memMb > MAX_MEM_MB) {
            throw CoopException.invalid("mem_mb", "must be between 0 (the node's default) and " + MAX_MEM_MB
                    + " (64 TiB), got " + memMb);
        }
        checkedPattern("output", output);
        checkedPattern("error", error);
        return this;
    }

    private static void checkedPattern(String field, String pattern) {
        if (pattern.isEmpty()) {
            return;
        }
        if (pattern.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_PATH_BYTES
                || pattern.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid(field, "must be at most " + MAX_PATH_BYTES + " bytes without control "
                    + "characters");
        }
        if (pattern.endsWith("/")) {
            throw CoopException.invalid(field, "'" + JobSpec.abbreviated(pattern) + "' names a folder; give a file");
        }
        for (int i = 0; i < pattern.length(); i++) {
            if (pattern.charAt(i) == '%') {
                char next = i + 1 < pattern.length() ? pattern.charAt(i + 1) : ' ';
                if ("jAaxtN%".indexOf(next) < 0) {
                    throw CoopException.invalid(field, "'" + JobSpec.abbreviated(pattern) + "': % must be followed by "
                            + "j (job id), A (array id), a (array index), x (job name), t (rank), N (node) or %");
                }
                i++;
            }
        }
    }

    /**
     * What one rank of {@code job} is told of this: the memory, and the output files with their
     * patterns filled in for that rank on {@code node}.
     */
    public JobOptions forRank(Job job, int rank, String node) {
        return new JobOptions(dependency, notifyOn, notifyTo, memMb, expand(output, job, rank, node),
                expand(error, job, rank, node));
    }

    /**
     * A pattern filled in as Slurm does: {@code %j} the job's id, {@code %A} its array's (its own id
     * for a job on its own), {@code %a} its index (Slurm's 4294967294 for a job on its own),
     * {@code %x} its name ("job" when it has none; a '/' in it becomes '_'), {@code %t} the rank,
     * {@code %N} the node and {@code %%} a percent sign.
     */
    private static String expand(String pattern, Job job, int rank, String node) {
        if (pattern.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 >= pattern.length()) {
                out.append(c);
                continue;
            }
            char next = pattern.charAt(++i);
            switch (next) {
                case 'j' -> out.append(job.id());
                case 'A' -> out.append(job.inArray() ? job.arrayId() : job.id());
                case 'a' -> out.append(job.inArray() ? Integer.toString(job.arrayIndex()) : "4294967294");
                case 'x' -> out.append(job.name().isEmpty() ? "job" : job.name().replace('/', '_'));
                case 't' -> out.append(rank);
                case 'N' -> out.append(node);
                case '%' -> out.append('%');
                default -> out.append('%').append(next);
            }
        }
        return out.toString();
    }
}
