package coop.scheduler.http;

/** A request the dashboard refuses with 400, with the one line that says why (naming the parameter). */
final class BadRequest extends RuntimeException {
    BadRequest(String message) {
        super(message, null, false, false);
    }
}
