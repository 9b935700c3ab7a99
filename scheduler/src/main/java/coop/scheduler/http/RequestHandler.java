package coop.scheduler.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's requests. Answers go out in the order the requests came, even when a later
 * one (a static file) is ready before an earlier one (a read on the event loop), as HTTP/1.1
 * pipelining requires; a connection with more than {@link #MAX_QUEUED} requests waiting is
 * closed. Only GET and HEAD are served. A request the codec could not parse gets 400 (414 or
 * 431 when its line or headers are too long) and the connection is closed, since what follows
 * it on the wire cannot be trusted to start a request.
 *
 * <p>On a loopback address only requests naming a loopback host ({@code localhost},
 * {@code 127.x.y.z}, {@code [::1]}) are answered; others get 403. A web page elsewhere could
 * otherwise point a name of its own at 127.0.0.1 (DNS rebinding) and read the cluster through
 * the browser of someone who runs a scheduler.
 *
 * <p>A connection has {@code requestTimeout} to send a whole request, counted from when it
 * opened or got its last answer; past that it is closed. That ends idle keep-alive connections
 * and clients that trickle a request byte by byte alike.
 */
final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
    static final int MAX_QUEUED = 16;

    private final Routes routes;
    private final long requestTimeoutMs;
    private final boolean loopbackOnly;
    private final AtomicInteger queued = new AtomicInteger();
    /** Closes the connection unless a request arrives first; touched only on the channel's thread. */
    private ScheduledFuture<?> deadline;
    /** Completes when the answer to the latest request so far has been handed to the channel. */
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    /** Whether the client has closed its half: touched only on the channel's thread. */
    private boolean inputShut;

    RequestHandler(Routes routes, Duration requestTimeout, boolean loopbackOnly) {
        this.routes = routes;
        this.loopbackOnly = loopbackOnly;
        this.requestTimeoutMs = requestTimeout.toMillis();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        arm(ctx);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        disarm();
        super.channelInactive(ctx);
    }

    private void arm(ChannelHandlerContext ctx) {
        disarm();
        if (ctx.channel().isActive()) {
            deadline = ctx.executor().schedule(() -> {
                ctx.close();
            }, requestTimeoutMs, TimeUnit.MILLISECONDS);
        }
    }

    private void disarm() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        disarm();
        if (!request.decoderResult().isSuccess()) {
            Throwable cause = request.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            String why = cause == null ? "malformed request" : "malformed request: " + Routes.abbreviate(
                    String.valueOf(cause.getMessage()));
            enqueue(ctx, CompletableFuture.completedFuture(Reply.error(status, null, why)), false, false,
                    HttpVersion.HTTP_1_1);
            return;
        }
        if (queued.get() >= MAX_QUEUED) {
            ctx.close();
            return;
        }
        HttpMethod method = request.method();
        boolean head = HttpMethod.HEAD.equals(method);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        CompletableFuture<Reply> reply;
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (loopbackOnly && host != null && !isLoopbackName(host)) {
            reply = CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.FORBIDDEN,
                    request.uri().startsWith("/api/") ? "/api/" : null, "this dashboard serves only requests for "
                            + "localhost, 127.0.0.1 or [::1], not for '" + Routes.abbreviate(host) + "'"));
        } else if (HttpMethod.GET.equals(method) || head) {
            reply = routes.get(request.uri());
        } else {
            reply = CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    request.uri().startsWith("/api/") ? "/api/" : null,
                    "the dashboard is read-only: " + Routes.abbreviate(method.name()) + " is not allowed")
                    .with("Allow", "GET, HEAD"));
        }
        enqueue(ctx, reply, head, keepAlive, request.protocolVersion());
    }

    /** Whether a Host header ({@code name[:port]}) names this machine's loopback interface. */
    static boolean isLoopbackName(String host) {
        String name = host.strip().toLowerCase(java.util.Locale.ROOT);
        if (name.startsWith("[")) {
            int end = name.indexOf(']');
            return end > 0 && name.substring(1, end).equals("::1")
                    && (end == name.length() - 1 || name.charAt(end + 1) == ':');
        }
        int colon = name.indexOf(':');
        if (colon >= 0) {
            name = name.substring(0, colon);
        }
        return name.equals("localhost") || name.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private void enqueue(ChannelHandlerContext ctx, CompletableFuture<Reply> reply, boolean head, boolean keepAlive,
                         HttpVersion version) {
        queued.incrementAndGet();
        // Written on the channel's own thread, always: a write from another thread (a reply the
        // event loop completed) only queues a task there, and a later answer already at hand,
        // written inline by the channel's thread while that task still waited, would overtake it.
        tail = tail.thenCombine(reply, (v, r) -> r).thenAcceptAsync(r -> {
            queued.decrementAndGet();
            write(ctx, r, head, keepAlive, version);
            // The clock for the next request starts once every answer so far is out.
            if (queued.get() == 0) {
                arm(ctx);
                closeIfDone(ctx);
            }
        }, ctx.executor()).exceptionally(e -> {
            // The channel's thread refuses tasks only when it shuts down with the server.
            if (!(e.getCause() instanceof java.util.concurrent.RejectedExecutionException)) {
                log.warn("answering a request failed", e);
            }
            ctx.close();
            return null;
        });
    }

    private static void write(ChannelHandlerContext ctx, Reply reply, boolean head, boolean keepAlive,
                              HttpVersion version) {
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(version, reply.status(),
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(reply.body()));
        var h = response.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, reply.contentType());
        // HEAD: the length the GET would have, without the body.
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        reply.headers().forEach(h::set);
        if (keepAlive) {
            if (version.equals(HttpVersion.HTTP_1_0)) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response);
        } else {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Ends a half-closed connection with nothing left to answer, after what was written reaches the socket. */
    private void closeIfDone(ChannelHandlerContext ctx) {
        if (inputShut && queued.get() == 0 && ctx.channel().isActive()) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        if (event instanceof ChannelInputShutdownEvent) {
            // The client sends nothing more: once every answer so far is out, the connection ends.
            inputShut = true;
            tail.thenRun(() -> ctx.executor().execute(() -> closeIfDone(ctx)));
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset connection, a TLS hello on the plaintext port, a codec complaint: this connection ends, nothing else.
        log.debug("dashboard connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
