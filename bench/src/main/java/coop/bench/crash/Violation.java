package coop.bench.crash;

/**
 * One way a recovered scheduler broke its word to its clients, found by
 * {@link Acknowledgements#check}.
 *
 * @param kind   which promise was broken
 * @param detail what was sent, what was answered and what was found, in one line
 */
public record Violation(Kind kind, String detail) {

    /** The promises a restart must keep. */
    public enum Kind {
        /** Something the scheduler acknowledged is gone, or not as acknowledged. */
        LOST,
        /** One submit became two jobs, one id was given twice, or the ledger holds more ballots than were cast. */
        DUPLICATED,
        /** A record holds only part of what was sent, or a tally disagrees with its ballots. */
        HALF_APPLIED,
        /** Something nobody sent, or that was refused or found absent after an earlier restart, is present. */
        PHANTOM,
        /** The ledger does not verify. */
        LEDGER;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    @Override
    public String toString() {
        return kind.label() + ": " + detail;
    }
}
