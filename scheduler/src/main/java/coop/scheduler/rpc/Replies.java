package coop.scheduler.rpc;

import coop.scheduler.domain.CoopException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/** Turns the event loop's futures into gRPC replies, and refusals into status codes. */
final class Replies {
    private Replies() {
    }

    static <T, R> void unary(CompletableFuture<T> result, StreamObserver<R> out, Function<T, R> toProto) {
        result.whenComplete((value, error) -> {
            if (error != null) {
                out.onError(status(error));
                return;
            }
            try {
                out.onNext(toProto.apply(value));
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(status(e));
            }
        });
    }

    static StatusRuntimeException status(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof StatusRuntimeException s) {
            return s;
        }
        if (e instanceof CoopException c) {
            Status s = switch (c.kind()) {
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                case NOT_FOUND -> Status.NOT_FOUND;
                case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
                case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
                case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
                case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
                case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
                case UNAVAILABLE -> Status.UNAVAILABLE;
            };
            return s.withDescription(c.getMessage()).asRuntimeException();
        }
        return Status.INTERNAL.withDescription("internal error: " + e).withCause(e).asRuntimeException();
    }
}
