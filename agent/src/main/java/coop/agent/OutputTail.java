package coop.agent;

import java.util.Objects;

/**
 * The last bytes a rank wrote to its {@code stdout} and {@code stderr} files, as returned to a
 * {@code LogRequest}. The arrays are the caller's to keep; a missing file reads as empty.
 */
public record OutputTail(byte[] stdout, byte[] stderr) {

    public OutputTail {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }
}
