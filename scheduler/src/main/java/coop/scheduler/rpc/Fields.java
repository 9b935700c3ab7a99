package coop.scheduler.rpc;

import coop.scheduler.domain.CoopException;
import io.grpc.stub.StreamObserver;

/**
 * Checks of request fields that need no state, made on the calling thread before any command is
 * queued: a refused request never reaches the event loop, so it cannot change anything. Checks
 * that need the state (open accounts, policy limits) are the commands' own.
 */
final class Fields {
    /** Longest signature accepted: an Ed25519 signature is 88 characters of base64. */
    static final int MAX_SIGNATURE = 256;
    /** Longest TLS public key accepted for a certificate (a P-256 key in PEM is about 180 characters). */
    static final int MAX_PUBLIC_KEY = 4096;
    /** Longest agent version string. */
    static final int MAX_VERSION = 64;

    private Fields() {
    }

    /** Runs the checks; on a refusal, answers the call with it and returns true. */
    static boolean refused(StreamObserver<?> out, Runnable checks) {
        try {
            checks.run();
            return false;
        } catch (CoopException e) {
            out.onError(Replies.status(e));
            return true;
        }
    }

    static void positiveId(String field, long id) {
        if (id < 1) {
            throw CoopException.invalid(field, "must be a positive id, got " + id);
        }
    }

    static void maxLength(String field, String text, int max) {
        if (text.length() > max) {
            throw CoopException.invalid(field, "must be at most " + max + " characters, got " + text.length());
        }
    }
}
