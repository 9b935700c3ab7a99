package coop.scheduler.domain;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.BitSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The indices of a job array, as Slurm's {@code --array} writes them: comma-separated items, each
 * an index ({@code 7}), a range ({@code 0-1999}) or a range with a step ({@code 0-99:10}). Every
 * index is between 0 and {@link #MAX_INDEX} and appears once; there are at most
 * {@link #MAX_TASKS} (the most any member may have waiting under the default policy). Parsing
 * refuses anything else with INVALID_ARGUMENT naming the field {@code array}.
 */
public final class ArraySpec {
    /** Most tasks in one array: as many as the default max_pending_per_member lets one member queue. */
    public static final int MAX_TASKS = 10_000;
    /** Highest index: Slurm's own cap on MaxArraySize is 4 000 001; a smaller one keeps ranges honest. */
    public static final int MAX_INDEX = 999_999;
    private static final int MAX_TEXT = 1024;
    // Any number of digits, so that an index too large is refused as that rather than as no index.
    private static final Pattern ITEM = Pattern.compile("(\\d+)(?:-(\\d+)(?::(\\d+))?)?");

    private ArraySpec() {
    }

    /** The indices, ascending. */
    public static int[] parse(String text) {
        if (text == null || text.isBlank()) {
            throw CoopException.invalid("array", "is empty: give indices such as 0-99, 0-99:10 or 1,3,5");
        }
        if (text.length() > MAX_TEXT) {
            throw CoopException.invalid("array", "must be at most " + MAX_TEXT + " characters");
        }
        BitSet seen = new BitSet();
        int count = 0;
        for (String raw : text.split(",", -1)) {
            String item = raw.strip();
            Matcher m = ITEM.matcher(item);
            if (!m.matches()) {
                throw CoopException.invalid("array", "'" + JobSpec.abbreviated(item) + "' is not an index (7), a "
                        + "range (0-99) or a range with a step (0-99:10); indices are whole numbers 0 or more");
            }
            int from = index(m.group(1));
            int to = m.group(2) == null ? from : index(m.group(2));
            if (to < from) {
                throw CoopException.invalid("array", "range " + item + " ends before it starts");
            }
            BigInteger stepValue = m.group(3) == null ? BigInteger.ONE : new BigInteger(m.group(3));
            if (stepValue.signum() < 1 || stepValue.compareTo(BigInteger.valueOf(MAX_INDEX)) > 0) {
                throw CoopException.invalid("array", "step of " + JobSpec.abbreviated(item) + " must be between 1 and "
                        + MAX_INDEX);
            }
            int step = stepValue.intValueExact();
            long items = (to - from) / step + 1L;
            if (count + items > MAX_TASKS) {
                throw CoopException.invalid("array", "at most " + MAX_TASKS + " tasks in one array, '"
                        + JobSpec.abbreviated(text) + "' has more");
            }
            for (int i = from; i <= to; i += step) {
                if (seen.get(i)) {
                    throw CoopException.invalid("array", "index " + i + " appears more than once");
                }
                seen.set(i);
                count++;
            }
        }
        int[] out = seen.stream().toArray();
        Arrays.sort(out);
        return out;
    }

    private static int index(String digits) {
        BigInteger v = new BigInteger(digits);
        if (v.compareTo(BigInteger.valueOf(MAX_INDEX)) > 0) {
            throw CoopException.invalid("array", "index " + JobSpec.abbreviated(v.toString())
                    + " is beyond the largest allowed index, " + MAX_INDEX);
        }
        return v.intValueExact();
    }
}
