package coop.scheduler.rpc;

import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.Store;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** Registers the services, behind member authentication, on a server builder. */
public final class Services {
    private Services() {
    }

    public static void register(ServerBuilder<?> builder, EventLoop loop, Store store,
                                Map<String, String> tokenDigests) {
        Caller caller = new Caller(tokenDigests);
        LogBroker logs = new LogBroker();
        // One daemon thread serves every `coop logs -f`: each poll only asks and forwards bytes.
        ScheduledExecutorService followers = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "coop-log-followers");
            t.setDaemon(true);
            return t;
        });
        builder.addService(ServerInterceptors.intercept(new JobsService(loop, logs, followers), caller));
        builder.addService(ServerInterceptors.intercept(new GovernanceService(loop), caller));
        builder.addService(ServerInterceptors.intercept(new NodesService(loop, logs), caller, new PeerAddress()));
        builder.addService(new LedgerService(loop, store));
        builder.addService(ServerInterceptors.intercept(new AdminService(loop, store), caller));
    }
}
