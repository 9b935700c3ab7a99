package coop.scheduler.rpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SelectStrategy;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The gRPC server's Netty threads, with reads coalesced. Ten thousand agents heartbeating once a
 * second send a few dozen bytes each, spread evenly over the second: left to itself, an I/O
 * thread sleeps in epoll_wait after each one and is woken for the next, and at that rate the
 * sleeping and waking costs about as much CPU as reading and decrypting the messages. So after a
 * round of work a thread rests for {@link #PAUSE} before it polls again, and then takes in what
 * arrived meanwhile in one round. Only a thread that has just worked rests: an idle one blocks in
 * epoll_wait as usual and wakes at once for the first message, so a quiet scheduler answers as
 * fast as before and a busy one delays a read by at most the pause (and tasks handed to the
 * thread meanwhile, such as orders to agents, by as much).
 *
 * <p>Linux only (epoll); elsewhere the server keeps gRPC's default threads.
 */
public final class Transport implements AutoCloseable {
    /** How long a thread that has just worked waits before it polls again. */
    public static final Duration PAUSE = Duration.ofMillis(1);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;

    private Transport(EventLoopGroup boss, EventLoopGroup workers) {
        this.boss = boss;
        this.workers = workers;
    }

    /**
     * Puts coalescing I/O threads (one per core) under {@code builder}, or leaves it as it is
     * where epoll is unavailable.
     *
     * @return what to close after the server has terminated
     */
    public static Transport on(NettyServerBuilder builder) {
        if (!Epoll.isAvailable()) {
            return new Transport(null, null);
        }
        long pauseNanos = PAUSE.toNanos();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("coop-grpc-accept", true),
                EpollIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                new DefaultThreadFactory("coop-grpc-io", true),
                EpollIoHandler.newFactory(0, () -> (selectNow, hasTasks) -> {
                    if (hasTasks) {
                        return selectNow.get();
                    }
                    // Called after every round: rest, then take in whatever has arrived; with
                    // nothing there, block until something does.
                    LockSupport.parkNanos(pauseNanos);
                    int ready = selectNow.get();
                    return ready > 0 ? ready : SelectStrategy.SELECT;
                }));
        builder.bossEventLoopGroup(boss).workerEventLoopGroup(workers).channelType(EpollServerSocketChannel.class);
        return new Transport(boss, workers);
    }

    @Override
    public void close() {
        for (EventLoopGroup g : new EventLoopGroup[] {boss, workers}) {
            if (g != null) {
                g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
    }
}
