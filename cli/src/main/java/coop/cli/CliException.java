package coop.cli;

/**
 * A failure the user can act on (a missing identity file, a malformed one, a refused
 * local precondition). Its message is complete and is printed by {@link Errors} as one
 * {@code error: ...} line, without a stack trace.
 */
public class CliException extends RuntimeException {

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
