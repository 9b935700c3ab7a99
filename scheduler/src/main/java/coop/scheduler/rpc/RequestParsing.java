package coop.scheduler.rpc;

import io.grpc.Attributes;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses requests at the edge, so that bytes which are not the method's request message are
 * refused with INVALID_ARGUMENT. Left to gRPC, a parse failure escapes into the call's executor:
 * the caller gets UNKNOWN ("Application error processing RPC"), indistinguishable from a bug, and
 * the scheduler logs a SEVERE stack trace for every garbage message anyone sends.
 *
 * <p>Each method of a service is re-registered with a bytes marshaller; its handler (the
 * interceptors, then the service) still sees typed messages, parsed here first.
 */
final class RequestParsing {
    /** Messages as their raw bytes; tests that send arbitrary bytes use it too. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new KnownBytes(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                if (stream instanceof KnownLength) {
                    // gRPC's own message streams say their size: read exactly that. readAllBytes
                    // would allocate 8 KiB for a heartbeat of a dozen bytes, 10,000 times a second.
                    byte[] bytes = new byte[stream.available()];
                    int n = stream.readNBytes(bytes, 0, bytes.length);
                    if (n == bytes.length && stream.available() == 0) {
                        return bytes;
                    }
                    // Not the length it stated after all: whatever it holds, read to its end.
                    java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
                    all.write(bytes, 0, n);
                    stream.transferTo(all);
                    return all.toByteArray();
                }
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read the request").withCause(e).asRuntimeException();
            }
        }
    };

    private RequestParsing() {
    }

    /** Bytes as a stream that states its length, as gRPC's marshallers look for. */
    private static final class KnownBytes extends ByteArrayInputStream implements KnownLength {
        KnownBytes(byte[] bytes) {
            super(bytes);
        }
    }

    /** The service with every request parsed here, refusing what does not parse. */
    static ServerServiceDefinition refuseUnparsable(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            b.addMethod(parsedHere(m));
        }
        return b.build();
    }

    private static <Q, R> ServerMethodDefinition<byte[], R> parsedHere(ServerMethodDefinition<Q, R> typed) {
        MethodDescriptor<Q, R> method = typed.getMethodDescriptor();
        MethodDescriptor<byte[], R> raw = method.toBuilder(BYTES, method.getResponseMarshaller()).build();
        ServerCallHandler<Q, R> next = typed.getServerCallHandler();
        return ServerMethodDefinition.create(raw, (call, headers) -> listen(call, headers, method, next));
    }

    private static <Q, R> ServerCall.Listener<byte[]> listen(ServerCall<byte[], R> call, Metadata headers,
                                                            MethodDescriptor<Q, R> method,
                                                            ServerCallHandler<Q, R> next) {
        TypedCall<Q, R> typedCall = new TypedCall<>(call, method);
        ServerCall.Listener<Q> listener = next.startCall(typedCall, headers);
        return new ServerCall.Listener<byte[]>() {
            private boolean refused;

            @Override
            public void onMessage(byte[] bytes) {
                if (refused) {
                    return;
                }
                Q request;
                try {
                    // Of known length, so protobuf's marshaller parses it from an array rather than through a
                    // stream decoder with a 4 KiB buffer of its own.
                    request = method.parseRequest(new KnownBytes(bytes));
                } catch (RuntimeException e) {
                    refused = true;
                    typedCall.close(Status.INVALID_ARGUMENT.withDescription("request: not a valid "
                            + method.getFullMethodName() + " request message"), new Metadata());
                    return;
                }
                listener.onMessage(request);
            }

            @Override
            public void onHalfClose() {
                if (!refused) {
                    listener.onHalfClose();
                }
            }

            @Override
            public void onCancel() {
                listener.onCancel();
            }

            @Override
            public void onComplete() {
                listener.onComplete();
            }

            @Override
            public void onReady() {
                if (!refused) {
                    listener.onReady();
                }
            }
        };
    }

    /**
     * The call as its handler sees it: typed, and closed at most once. After a refusal the service
     * may still try to answer (an agent's stream sends from the event loop's thread), which must be
     * ignored rather than break the call, so sends and closes are serialized here.
     */
    private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<byte[], R> call;
        private final MethodDescriptor<Q, R> method;
        private boolean closed;

        TypedCall(ServerCall<byte[], R> call, MethodDescriptor<Q, R> method) {
            this.call = call;
            this.method = method;
        }

        @Override
        public void request(int numMessages) {
            call.request(numMessages);
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (!closed) {
                call.sendHeaders(headers);
            }
        }

        @Override
        public synchronized void sendMessage(R message) {
            if (!closed) {
                call.sendMessage(message);
            }
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            if (!closed) {
                closed = true;
                call.close(status, trailers);
            }
        }

        @Override
        public boolean isReady() {
            return call.isReady();
        }

        @Override
        public boolean isCancelled() {
            return call.isCancelled();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            call.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            call.setCompression(compressor);
        }

        @Override
        public void setOnReadyThreshold(int numBytes) {
            call.setOnReadyThreshold(numBytes);
        }

        @Override
        public SecurityLevel getSecurityLevel() {
            return call.getSecurityLevel();
        }

        @Override
        public Attributes getAttributes() {
            return call.getAttributes();
        }

        @Override
        public String getAuthority() {
            return call.getAuthority();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }
    }
}
