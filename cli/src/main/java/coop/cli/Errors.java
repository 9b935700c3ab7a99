package coop.cli;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns a failed command into one {@code error: ...} line on stderr and exit code 1.
 * gRPC refusals show the scheduler's own description (it names the offending field);
 * an unreachable scheduler is named with its address. Stack traces appear only when
 * {@code COOP_DEBUG=1}. Parameter errors are not handled here: picocli reports them
 * with usage help and exit code 2.
 */
public final class Errors implements IExecutionExceptionHandler {

    /** Exit code of a command that failed while running. */
    public static final int FAILED = 1;

    private final boolean debug;

    public Errors(boolean debug) {
        this.debug = debug;
    }

    /** An instance that shows stack traces when the environment has {@code COOP_DEBUG=1}. */
    public static Errors fromEnvironment() {
        return new Errors("1".equals(System.getenv("COOP_DEBUG")));
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        PrintWriter out = commandLine.getOut();
        out.flush();
        PrintWriter err = commandLine.getErr();
        err.println("error: " + message(ex, () -> schedulerOf(commandLine)));
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }

    /** The one-line message (without the {@code error: } prefix) for a failure. */
    static String message(Throwable ex, Supplier<String> scheduler) {
        Status status = statusOf(ex);
        if (status != null) {
            return oneLine(statusMessage(status, scheduler));
        }
        String message = ex.getMessage();
        if (message == null || message.isBlank()) {
            message = ex.getClass().getSimpleName();
        }
        return oneLine(message);
    }

    /** The TLS failure under an UNAVAILABLE status, if that is why, else null. */
    private static String tlsFailure(Status status) {
        for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException) {
                return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            }
        }
        return null;
    }

    private static String statusMessage(Status status, Supplier<String> scheduler) {
        String description = status.getDescription();
        boolean described = description != null && !description.isBlank();
        return switch (status.getCode()) {
            case UNAVAILABLE -> tlsFailure(status) != null
                    ? "cannot talk TLS with scheduler at " + scheduler.get() + ": " + tlsFailure(status)
                            + " (it requires mutual TLS: --identity FILE must hold a certificate of its cooperative)"
                    : "cannot reach scheduler at " + scheduler.get() + " (is it running?)";
            case DEADLINE_EXCEEDED -> "scheduler at " + scheduler.get() + " did not answer within "
                    + Client.CALL_DEADLINE.toSeconds() + "s";
            case INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, PERMISSION_DENIED, ALREADY_EXISTS,
                    UNAUTHENTICATED -> described ? description : readable(status.getCode());
            default -> readable(status.getCode()) + (described ? ": " + description : "");
        };
    }

    private static String readable(Status.Code code) {
        return code.name().toLowerCase().replace('_', ' ');
    }

    private static Status statusOf(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof StatusRuntimeException sre) {
                return sre.getStatus();
            }
            if (t instanceof StatusException se) {
                return se.getStatus();
            }
        }
        return null;
    }

    private static String schedulerOf(CommandLine commandLine) {
        for (Object mixin : commandLine.getMixins().values()) {
            if (mixin instanceof ClientOptions options) {
                return options.schedulerTarget();
            }
        }
        return ClientOptions.DEFAULT_SCHEDULER;
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
