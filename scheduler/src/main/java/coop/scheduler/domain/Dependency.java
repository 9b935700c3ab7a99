package coop.scheduler.domain;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a job waits for before it may start, as Slurm's {@code --dependency} writes it:
 * comma-separated conditions, all of which must hold: {@code afterok:ID[:ID...]} (each ended
 * SUCCEEDED), {@code afterany:ID[:ID...]} (each ended, however), {@code afternotok:ID[:ID...]}
 * (each ended other than SUCCEEDED) and {@code singleton} (no earlier job of the same member and
 * name is unfinished). An ID is a job, an array task (itself a job), or a whole array, which stands
 * for all its tasks. Slurm's other types ({@code after}, {@code aftercorr}, {@code afterburstbuffer})
 * and its any-of separator {@code ?} are refused rather than read as something else: a job that
 * started earlier than its submitter meant is worse than a refusal.
 *
 * <p>A dependency is judged against the jobs as they are ({@link #evaluate}): met, still waiting
 * (saying for what), or never to be met (saying why), which Slurm's
 * {@code kill_invalid_depend} turns into a cancellation as this scheduler does.
 */
public record Dependency(List<Condition> conditions, boolean singleton) {
    public static final Dependency NONE = new Dependency(List.of(), false);
    /** Most ids one dependency may name: a chain or a fan-in, not a census of the queue. */
    public static final int MAX_IDS = 64;
    private static final int MAX_TEXT = 2048;

    /** What a parent must have done; each type says which final states meet it. */
    public enum Type {
        /** Ended SUCCEEDED. */
        AFTEROK,
        /** Ended, whatever its state. */
        AFTERANY,
        /** Ended other than SUCCEEDED: failed, cancelled or out of walltime. */
        AFTERNOTOK;

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One parent and what it must do. */
    public record Condition(Type type, long id) {
    }

    public Dependency {
        conditions = List.copyOf(conditions);
    }

    public boolean isNone() {
        return conditions.isEmpty() && !singleton;
    }

    /** The ids named, each once, in the order written. */
    public Set<Long> ids() {
        Set<Long> out = new LinkedHashSet<>();
        conditions.forEach(c -> out.add(c.id()));
        return out;
    }

    /**
     * The dependency a text says; empty or blank is {@link #NONE}; anything else broken is refused
     * naming {@code dependency}.
     */
    public static Dependency parse(String text) {
        if (text == null || text.isBlank()) {
            return NONE;
        }
        if (text.length() > MAX_TEXT) {
            throw CoopException.invalid("dependency", "must be at most " + MAX_TEXT + " characters");
        }
        if (text.indexOf('?') >= 0) {
            throw CoopException.invalid("dependency", "'?' (any one of) is not supported: every condition, "
                    + "separated by ',', must hold");
        }
        List<Condition> out = new ArrayList<>();
        boolean singleton = false;
        for (String raw : text.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                throw CoopException.invalid("dependency", "'" + JobSpec.abbreviated(text) + "' has an empty "
                        + "condition; write afterok:ID[:ID...], afterany:ID, afternotok:ID or singleton, separated "
                        + "by ','");
            }
            String[] parts = item.split(":", -1);
            String word = parts[0].strip().toLowerCase(Locale.ROOT);
            if (word.equals("singleton")) {
                if (parts.length > 1) {
                    throw CoopException.invalid("dependency", "singleton takes no ids, got '"
                            + JobSpec.abbreviated(item) + "'");
                }
                singleton = true;
                continue;
            }
            Type type = switch (word) {
                case "afterok" -> Type.AFTEROK;
                case "afterany" -> Type.AFTERANY;
                case "afternotok" -> Type.AFTERNOTOK;
                default -> throw CoopException.invalid("dependency", "type '" + JobSpec.abbreviated(parts[0].strip())
                        + "' is not supported; use afterok, afterany, afternotok or singleton");
            };
            if (parts.length < 2) {
                throw CoopException.invalid("dependency", word + " needs at least one job id, as " + word + ":12");
            }
            for (int i = 1; i < parts.length; i++) {
                String id = parts[i].strip();
                if (!id.matches("[0-9]{1,18}") || Long.parseLong(id) < 1) {
                    throw CoopException.invalid("dependency", "'" + JobSpec.abbreviated(id) + "' in " + word
                            + " is not a job id (a whole number, 1 or more; an array task by its own job id)");
                }
                out.add(new Condition(type, Long.parseLong(id)));
                if (out.size() > MAX_IDS) {
                    throw CoopException.invalid("dependency", "names more than " + MAX_IDS + " job ids");
                }
            }
        }
        return new Dependency(out, singleton);
    }

    /** What the dependency depends on: the jobs and arrays as they are now. */
    public interface Parents {
        /** A job or array task by id, or null. */
        Job job(long id);

        /** How far the array with this id has come, or null when it is no array's. */
        ArrayProgress array(long arrayId);

        /** The earliest unfinished job submitted before {@code job} by its member under its name, or null. */
        Job unfinishedNamesake(Job job);
    }

    /**
     * Where an array stands for its dependents: how many of its tasks are unfinished, and one that
     * ended other than SUCCEEDED (null when none has).
     */
    public record ArrayProgress(int unfinished, Job unsucceeded) {
    }

    /** Where a dependency stands. */
    public sealed interface Standing {
        /** Every condition holds: the job may start. */
        record Met() implements Standing {
        }

        /** Some condition may yet hold: {@code why} starts "DEPENDENCY: " and says what it waits for. */
        record Waits(String why) implements Standing {
        }

        /** Some condition can never hold: {@code reason} says which ("job 12 FAILED"). */
        record Never(String reason) implements Standing {
        }
    }

    private static final Standing MET = new Standing.Met();

    /** Where this dependency of {@code job} stands among {@code parents}. */
    public Standing evaluate(Job job, Parents parents) {
        List<String> waits = new ArrayList<>();
        for (Condition c : conditions) {
            ArrayProgress array = parents.array(c.id());
            String never = array != null ? arrayNever(c, array) : jobNever(c, parents.job(c.id()));
            if (never != null) {
                return new Standing.Never(never);
            }
            String wait = array != null ? arrayWait(c, array) : jobWait(c, parents.job(c.id()));
            if (wait != null) {
                waits.add(wait);
            }
        }
        if (singleton) {
            Job namesake = parents.unfinishedNamesake(job);
            if (namesake != null) {
                waits.add("singleton: job " + namesake.id() + " of the same name is unfinished");
            }
        }
        return waits.isEmpty() ? MET : new Standing.Waits("DEPENDENCY: " + String.join("; ", waits));
    }

    private static String jobNever(Condition c, Job parent) {
        if (parent == null) {
            return "job " + c.id() + " does not exist";
        }
        if (!parent.state().isFinal()) {
            return null;
        }
        boolean ok = parent.state() == JobState.SUCCEEDED;
        return switch (c.type()) {
            case AFTEROK -> ok ? null : "job " + c.id() + " " + parent.state();
            case AFTERNOTOK -> ok ? "job " + c.id() + " SUCCEEDED (afternotok)" : null;
            case AFTERANY -> null;
        };
    }

    private static String jobWait(Condition c, Job parent) {
        if (parent.state().isFinal()) {
            return null;
        }
        return "waits for job " + c.id() + switch (c.type()) {
            case AFTEROK -> " to succeed";
            case AFTERANY -> " to end";
            case AFTERNOTOK -> " to end without succeeding";
        };
    }

    private static String arrayNever(Condition c, ArrayProgress array) {
        Job failed = array.unsucceeded();
        return switch (c.type()) {
            // One task that did not succeed is enough: the array as a whole cannot.
            case AFTEROK -> failed == null ? null : "job " + failed.id() + " (task " + failed.arrayIndex()
                    + " of array " + c.id() + ") " + failed.state();
            case AFTERNOTOK -> array.unfinished() == 0 && failed == null ? "every task of array " + c.id()
                    + " SUCCEEDED (afternotok)" : null;
            case AFTERANY -> null;
        };
    }

    private static String arrayWait(Condition c, ArrayProgress array) {
        int unfinished = array.unfinished();
        if (unfinished == 0) {
            return null;
        }
        return "waits for array " + c.id() + "'s " + unfinished + " unfinished task" + (unfinished == 1 ? "" : "s")
                + switch (c.type()) {
            case AFTEROK -> " to succeed";
            case AFTERANY -> " to end";
            case AFTERNOTOK -> array.unsucceeded() != null ? " to end" : " to end, one at least without succeeding";
        };
    }
}
