package coop.scheduler.domain;

/**
 * A refused command, with the kind of refusal the rpc edge turns into a gRPC status.
 * Messages name the field and the rule ("shares: must sum to 100%, got 90%").
 */
public final class CoopException extends RuntimeException {

    /** Why a command was refused. */
    public enum Kind { INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION,
        UNAUTHENTICATED, RESOURCE_EXHAUSTED, UNAVAILABLE }

    private final Kind kind;

    public CoopException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static CoopException invalid(String field, String rule) {
        return new CoopException(Kind.INVALID_ARGUMENT, field + ": " + rule);
    }

    public static CoopException notFound(String what) {
        return new CoopException(Kind.NOT_FOUND, what);
    }

    public static CoopException precondition(String why) {
        return new CoopException(Kind.FAILED_PRECONDITION, why);
    }

    public static CoopException denied(String why) {
        return new CoopException(Kind.PERMISSION_DENIED, why);
    }
}
