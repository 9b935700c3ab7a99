package coop.agent;

import java.util.Objects;

/**
 * Bytes read from a rank's {@code stdout} and {@code stderr} files, as returned to a
 * {@code LogRequest}, each with the file offset it starts at, so a reader that follows the
 * output knows where to ask next. A missing file reads as empty at offset 0.
 */
public record RankOutput(Slice stdout, Slice stderr) {

    /** Bytes of one file from {@code offset} on; the array is the caller's to keep. */
    public record Slice(long offset, byte[] bytes) {
        public Slice {
            Objects.requireNonNull(bytes, "bytes");
            if (offset < 0) {
                throw new IllegalArgumentException("offset must be >= 0, got " + offset);
            }
        }

        /** The offset just past these bytes: where the next read continues. */
        public long end() {
            return offset + bytes.length;
        }
    }

    public RankOutput {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }
}
