package coop.scheduler.http;

import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.Store;
import coop.scheduler.view.Reads;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's read-only web side on Netty: the dashboard page at {@code /}, the JSON API
 * under {@code /api/v1/}, and {@code /metrics} when a Prometheus text source is given. It only
 * reads: each API answer is one read on the event loop, like the gRPC services' list calls.
 * Requests are bounded ({@link Limits}), idle connections are closed, and whatever a client
 * sends ends at most its own connection, never the scheduler.
 */
public final class DashboardServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DashboardServer.class);

    /**
     * Bounds on what a client may send and hold: the request line, the header block, a body
     * (GET needs none; a bigger one gets 413), connections open at once, and how long a
     * connection has to send a whole request (from opening, or from its last answer) and may
     * sit without anything moving before it is closed.
     */
    public record Limits(int maxInitialLine, int maxHeaderBytes, int maxBodyBytes, int maxConnections, Duration idle) {
        public static final Limits DEFAULT = new Limits(4096, 8192, 8192, 256, Duration.ofSeconds(30));
    }

    /**
     * Every {@code sampleEvery} one usage sample goes into the history; an hour's worth at 2 s is
     * held, and one sample a minute is kept in the store for a day, so a restart keeps the chart.
     */
    public static final Duration SAMPLE_EVERY = Duration.ofSeconds(2);
    private static final int HISTORY_SAMPLES = 1800;
    static final Duration HISTORY_KEPT = Duration.ofDays(1);
    static final Duration HISTORY_KEPT_EVERY = Duration.ofMinutes(1);
    private static final Duration LEDGER_CHECK_GAP = Duration.ofSeconds(5);

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ScheduledExecutorService background;
    private final ExecutorService verifier;
    private final LedgerCheck ledger;
    private final Channel channel;

    private DashboardServer(EventLoopGroup boss, EventLoopGroup workers, ScheduledExecutorService background,
                            ExecutorService verifier, LedgerCheck ledger, Channel channel) {
        this.boss = boss;
        this.workers = workers;
        this.background = background;
        this.verifier = verifier;
        this.ledger = ledger;
        this.channel = channel;
    }

    /**
     * Binds {@code address} (port 0 picks a free one) and starts sampling usage.
     *
     * @param metrics the Prometheus text for {@code /metrics}; null serves 404 there
     */
    public static DashboardServer start(InetSocketAddress address, EventLoop loop, Store store, InstantSource clock,
                                        Supplier<String> metrics) {
        return start(address, loop, store, clock, metrics, false, Limits.DEFAULT, SAMPLE_EVERY);
    }

    /**
     * As above; with {@code showCommands} the API shows every job's command to whoever reaches it.
     * Without it (the default) it shows none: it has no login, so it cannot tell whose job a
     * reader may read, and a job's command belongs to its account.
     */
    public static DashboardServer start(InetSocketAddress address, EventLoop loop, Store store, InstantSource clock,
                                        Supplier<String> metrics, boolean showCommands) {
        return start(address, loop, store, clock, metrics, showCommands, Limits.DEFAULT, SAMPLE_EVERY);
    }

    public static DashboardServer start(InetSocketAddress address, EventLoop loop, Store store, InstantSource clock,
                                        Supplier<String> metrics, boolean showCommands, Limits limits,
                                        Duration sampleEvery) {
        // One thread samples the history and renders metrics, another checks the ledger: none of it may hold
        // up Netty's threads, and a long check must not leave gaps in the history.
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(
                new DefaultThreadFactory("coop-dashboard", true));
        ExecutorService verifier = Executors.newSingleThreadExecutor(
                new DefaultThreadFactory("coop-dashboard-ledger", true));
        History history = new History(HISTORY_SAMPLES, sampleEvery, store, HISTORY_KEPT, HISTORY_KEPT_EVERY,
                clock.millis());
        LedgerCheck ledger = new LedgerCheck(store, verifier, clock, LEDGER_CHECK_GAP);
        Routes routes = new Routes(loop, history, ledger, new Assets(), metrics, background, showCommands);
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("coop-http-accept", true),
                NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("coop-http", true),
                NioIoHandler.newFactory());
        AtomicInteger open = new AtomicInteger();
        boolean loopback = address.getAddress() != null && address.getAddress().isLoopbackAddress();
        try {
            Channel channel = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                    // A client that half-closes after its requests still gets every answer; the
                    // connection then ends once the last of them is out.
                    .childOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.SO_BACKLOG, 128)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (open.incrementAndGet() > limits.maxConnections()) {
                                open.decrementAndGet();
                                ch.close();
                                return;
                            }
                            ch.closeFuture().addListener(f -> open.decrementAndGet());
                            long idle = limits.idle().toMillis();
                            ch.pipeline()
                                    .addLast(new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS))
                                    .addLast(new HttpServerCodec(limits.maxInitialLine(), limits.maxHeaderBytes(),
                                            8192))
                                    .addLast(new HttpObjectAggregator(limits.maxBodyBytes()))
                                    .addLast(new RequestHandler(routes, limits.idle(), loopback))
                                    .addLast(new LastResort());
                        }
                    })
                    .bind(address).syncUninterruptibly().channel();
            // Added on the background thread, not the loop's that completes the read: a kept sample is a store write.
            background.scheduleAtFixedRate(() -> Reads.usage(loop).thenAcceptAsync(history::add, background), 0,
                    sampleEvery.toMillis(), TimeUnit.MILLISECONDS);
            return new DashboardServer(boss, workers, background, verifier, ledger, channel);
        } catch (RuntimeException e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            background.shutdownNow();
            verifier.shutdownNow();
            throw new IllegalStateException("cannot serve the dashboard on " + address.getHostString() + ":"
                    + address.getPort() + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public boolean isServing() {
        return channel.isActive();
    }

    /** Stops accepting, closes every connection, and waits for a running ledger check to stop. */
    @Override
    public void close() {
        ledger.close();
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        background.shutdownNow();
        verifier.shutdownNow();
        try {
            // The check reads the store, which closes after this returns.
            if (!verifier.awaitTermination(10, TimeUnit.SECONDS) || !background.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("the dashboard's background threads did not stop in time");
            }
            boss.terminationFuture().await(5, TimeUnit.SECONDS);
            workers.terminationFuture().await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whatever no handler caught ends here: the connection closes, quietly. */
    private static final class LastResort extends ChannelInboundHandlerAdapter {
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("dashboard connection closed: {}", cause.toString());
            ctx.close();
        }
    }
}
