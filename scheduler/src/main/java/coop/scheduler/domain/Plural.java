package coop.scheduler.domain;

/**
 * A count and its noun, singular for one and plural otherwise ("1 node", "2 nodes", "0 GPUs"),
 * for the texts members read: "1 GPUs" reads as a mistake, and a reason that reads as a mistake
 * is not believed.
 */
public final class Plural {
    private Plural() {
    }

    /** {@code n} and the noun, with an "s" unless {@code n} is one. */
    public static String of(long n, String noun) {
        return n + " " + (n == 1 ? noun : noun + "s");
    }
}
