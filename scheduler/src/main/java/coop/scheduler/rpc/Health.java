package coop.scheduler.rpc;

import coop.scheduler.engine.EventLoop;
import io.grpc.ServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;

/**
 * The standard {@code grpc.health.v1.Health} service, so that a load balancer, a service manager
 * or {@code grpc_health_probe} can ask whether the scheduler serves without a member identity
 * (mutual TLS still applies at the handshake). It answers SERVING while the event loop takes
 * commands, and NOT_SERVING for good once the loop has stopped (closed, or stopped by a storage
 * failure): such a scheduler acknowledges nothing more until it is restarted.
 */
public final class Health {
    private Health() {
    }

    /** Adds the health service to {@code builder}; it follows {@code loop}. */
    public static HealthStatusManager register(ServerBuilder<?> builder, EventLoop loop) {
        HealthStatusManager health = new HealthStatusManager();
        builder.addService(health.getHealthService());
        loop.stopped().thenRun(health::enterTerminalState);
        return health;
    }
}
