package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import coop.scheduler.SchedulerServer;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.governance.Statements;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import coop.v1.AdminGrpc;
import coop.v1.AgentMessage;
import coop.v1.BackupRequest;
import coop.v1.CertifyRequest;
import coop.v1.DelegateRequest;
import coop.v1.EnrollRequest;
import coop.v1.EnrollResponse;
import coop.v1.GetJobRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.Hello;
import coop.v1.JobsGrpc;
import coop.v1.LedgerGrpc;
import coop.v1.ListProposalsRequest;
import coop.v1.NodesGrpc;
import coop.v1.ProposeRequest;
import coop.v1.ReviewRequest;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import coop.v1.VoteRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input against the scheduler's real gRPC port (Netty on 127.0.0.1, mutual TLS as in
 * production): garbage bytes on the socket before and after the TLS handshake, garbage HTTP/2
 * frames, random and mutated protobuf bytes to every method of every service (from a member, from
 * no one, from impostors), and nonsense on agents' Connect streams. Afterwards the scheduler must
 * still answer a valid request, its event loop must still run, and its store and ledger must still
 * verify; no call may ever have ended INTERNAL or UNKNOWN, which is how gRPC reports an exception
 * the service did not handle (except gRPC's own answer to a protocol violation, see
 * {@link #isUnhandled}).
 *
 * <p>Seeded: the seed is printed and {@code -Dcoop.fuzz.seed=N} replays it. {@code
 * -Dcoop.fuzz.inputs=N} and {@code -Dcoop.fuzz.seconds=S} make a longer run.
 */
class HostileInputTest {
    private static final int INPUTS = Integer.getInteger("coop.fuzz.inputs", 3000);
    private static final Duration BUDGET = Duration.ofSeconds(Long.getLong("coop.fuzz.seconds", 25));
    /** gRPC's default, which the scheduler keeps: a larger message is refused before it is read. */
    private static final int MAX_INBOUND = 4 << 20;
    private static final List<ServiceDescriptor> SERVICES = List.of(JobsGrpc.getServiceDescriptor(),
            GovernanceGrpc.getServiceDescriptor(), NodesGrpc.getServiceDescriptor(),
            LedgerGrpc.getServiceDescriptor(), AdminGrpc.getServiceDescriptor());
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = RequestParsing.BYTES;

    @TempDir
    Path dir;
    private final TestMembers keys = new TestMembers();
    private Path data;
    private String caPem;
    private Authority.Issued aliceTls;
    private Authority.Issued strangerTls;
    private SchedulerServer server;
    private final List<ManagedChannel> channels = new ArrayList<>();

    /** Every call's outcome, by method and status code. */
    private final Map<String, Map<Status.Code, AtomicInteger>> outcomes = new ConcurrentHashMap<>();
    /** Calls that ended INTERNAL or UNKNOWN, with what was sent. */
    private final ConcurrentLinkedQueue<String> unhandled = new ConcurrentLinkedQueue<>();
    private final List<Long> jobIds = new CopyOnWriteArrayList<>();

    @BeforeEach
    void found() throws Exception {
        data = dir.resolve("data");
        Files.createDirectories(data);
        try (Store store = Store.open(data)) {
            ClusterState.found(store, List.of(keys.member("alice", List.of("lab-a")),
                    keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"), System.currentTimeMillis());
        }
        Authority ca = Authority.create(data, "fuzz", List.of(), new SecureRandom());
        caPem = ca.caPem();
        aliceTls = ca.issue(new Authority.Holder(Authority.Holder.MEMBER, "alice"));
        // Signed by the cooperative's CA, but naming no member of it.
        strangerTls = ca.issue(new Authority.Holder(Authority.Holder.MEMBER, "mallory"));
        server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(5), null)
                .withBackupRoot(dir.resolve("backups")), InstantSource.system());
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Timeout(150)
    void survivesABarrageOfHostileInput() throws Exception {
        long seed = Long.getLong("coop.fuzz.seed", new SecureRandom().nextLong());
        System.out.printf("HostileInputTest seed %d (replay with -Dcoop.fuzz.seed=%d)%n", seed, seed);
        RandomGenerator random = new Random(seed);
        long start = System.nanoTime();
        long deadline = start + BUDGET.toNanos();

        ManagedChannel alice = channel(aliceTls);
        ManagedChannel stranger = channel(strangerTls);
        EnrollResponse node = NodesGrpc.newBlockingStub(alice).withInterceptors(asMember("alice", "token-alice"))
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .enroll(EnrollRequest.newBuilder().setName("n1").setSite("north").setAccount("lab-a").build());
        ManagedChannel agent = channel(new Authority.Issued(node.getCertificate(), node.getPrivateKey()));
        Metadata agentHeaders = new Metadata();
        agentHeaders.put(PeerAddress.NODE, "n1");
        agentHeaders.put(PeerAddress.NODE_TOKEN, node.getToken());

        Inputs inputs = new Inputs(random);
        long phase = BUDGET.toNanos() / 5;
        int raw = rawSocketBarrage(random, Math.max(60, INPUTS / 10), start + phase);
        long rawDone = System.nanoTime();
        // Agents first: the message barrage may remove or drain node n1.
        int streams = connectBarrage(random, inputs, agent, agentHeaders, alice, Math.max(40, INPUTS / 20),
                start + 2 * phase);
        int messages = messageBarrage(random, inputs, alice, stranger, INPUTS, deadline);
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("HostileInputTest: %d raw connections (%d ms), %d gRPC calls, %d agent streams in %d ms%n",
                raw, (rawDone - start) / 1_000_000, messages, streams, elapsedMs);
        new TreeMap<>(outcomes).forEach((m, codes) -> System.out.printf("  %-36s %s%n", m, new TreeMap<>(codes)));

        assertThat(unhandled).as("calls that ended INTERNAL or UNKNOWN (seed %d)", seed).isEmpty();
        assertStillServing(channel(aliceTls));
    }

    @Test
    @Timeout(60)
    void aMessageLargerThanTheInboundLimitIsRefusedCleanly() throws Exception {
        ManagedChannel alice = channel(aliceTls);
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 20; i++) {
            SubmitRequest huge = SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                    .setCommand("x".repeat(MAX_INBOUND + 1)).build();
            var stub = JobsGrpc.newBlockingStub(alice).withInterceptors(asMember("alice", "token-alice"))
                    .withDeadlineAfter(20, TimeUnit.SECONDS);
            StatusRuntimeException refused = org.assertj.core.api.Assertions.catchThrowableOfType(
                    StatusRuntimeException.class, () -> stub.submit(huge));
            assertThat(refused).isNotNull();
            assertThat(refused.getStatus().getCode()).as(refused.getStatus().toString())
                    .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        }
        // A length prefix announcing 2 GiB is refused from the prefix alone: nothing that size is allocated.
        long usedBefore = rt.totalMemory() - rt.freeMemory();
        for (int i = 0; i < 10; i++) {
            Http2Headers reply = rawGrpcCall("/coop.v1.Jobs/Submit", new byte[] {0, 0x7f, (byte) 0xff, (byte) 0xff,
                    (byte) 0xff, 1, 2, 3});
            assertThat(reply).as("a reply to the oversized prefix").isNotNull();
            assertThat(String.valueOf(reply.get("grpc-status"))).as(reply.toString())
                    .isEqualTo(String.valueOf(Status.Code.RESOURCE_EXHAUSTED.value()));
        }
        long usedAfter = rt.totalMemory() - rt.freeMemory();
        assertThat(usedAfter - usedBefore).isLessThan(512L << 20);
        assertStillServing(alice);
    }

    // ------------------------------------------------------------------ (a) raw bytes on the socket

    private int rawSocketBarrage(RandomGenerator random, int count, long deadline) throws Exception {
        SSLContext member = tlsContext(aliceTls);
        SSLContext anonymous = tlsContext(null);
        // Connections in parallel: each waits for the server to fall silent or hang up.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        AtomicInteger sent = new AtomicInteger();
        try {
            List<java.util.concurrent.Future<?>> all = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long connectionSeed = random.nextLong();
                all.add(pool.submit(() -> {
                    if (System.nanoTime() < deadline) {
                        rawConnection(new Random(connectionSeed), member, anonymous);
                        sent.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (var f : all) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return sent.get();
    }

    private void rawConnection(RandomGenerator random, SSLContext member, SSLContext anonymous) {
        int kind = random.nextInt(7);
        byte[] garbage = randomBytes(random, random.nextInt(4) == 0 ? 70_000 : 512);
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            plain.setSoTimeout(150);
            if (kind < 2) {
                plain.getOutputStream().write(kind == 0 ? garbage : truncatedClientHello(random));
                plain.getOutputStream().flush();
                drain(plain);
                return;
            }
            // TLS without a client certificate (kind 2) is refused at the handshake.
            try (SSLSocket tls = handshake(kind == 2 ? anonymous : member, plain)) {
                OutputStream out = tls.getOutputStream();
                switch (kind) {
                    case 2, 3 -> out.write(garbage);
                    case 4 -> {
                        out.write(PREFACE);
                        out.write(frame(4, 0, 0, new byte[0]));
                        for (int f = random.nextInt(8); f >= 0; f--) {
                            out.write(randomFrame(random));
                        }
                    }
                    case 5 -> {
                        // An oversized frame length, then a truncated frame.
                        out.write(PREFACE);
                        out.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 1});
                        out.write(randomBytes(random, random.nextInt(100)));
                    }
                    default -> {
                        out.write(PREFACE);
                        out.write(frame(4, 0, 0, new byte[0]));
                        String path = "/" + randomMethod(random).getFullMethodName();
                        out.write(frame(1, 4, 1, requestHeaders(path, random.nextBoolean())));
                        out.write(frame(0, random.nextBoolean() ? 1 : 0, 1, grpcFrame(random)));
                    }
                }
                out.flush();
                drain(tls);
            }
        } catch (IOException closedOnUs) {
            // The server may refuse or hang up at any point: a fine answer to garbage.
        }
    }

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private static byte[] truncatedClientHello(RandomGenerator random) {
        // A TLS record header announcing a handshake record, then too little or nonsense.
        byte[] b = new byte[5 + random.nextInt(64)];
        random.nextBytes(b);
        b[0] = 0x16;
        b[1] = 0x03;
        b[2] = (byte) random.nextInt(5);
        b[3] = (byte) random.nextInt(256);
        b[4] = (byte) random.nextInt(256);
        if (b.length > 5) {
            b[5] = 0x01;
        }
        return b;
    }

    private static byte[] randomFrame(RandomGenerator random) {
        byte[] payload = randomBytes(random, random.nextInt(3) == 0 ? 20_000 : 64);
        int type = random.nextInt(12);
        int stream = random.nextInt(4) == 0 ? random.nextInt() & 0x7fffffff : random.nextInt(8);
        byte[] f = frame(type, random.nextInt(256), stream, payload);
        if (random.nextInt(4) == 0) {
            // Lie about the length.
            int len = random.nextInt(1 << 24);
            f[0] = (byte) (len >>> 16);
            f[1] = (byte) (len >>> 8);
            f[2] = (byte) len;
        }
        if (random.nextInt(4) == 0) {
            return java.util.Arrays.copyOf(f, random.nextInt(f.length + 1));
        }
        return f;
    }

    private static byte[] grpcFrame(RandomGenerator random) {
        byte[] body = randomBytes(random, 200);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(random.nextInt(4) == 0 ? random.nextInt(256) : 0);
        int len = switch (random.nextInt(3)) {
            case 0 -> body.length;
            case 1 -> random.nextInt();
            default -> body.length + 1 + random.nextInt(100);
        };
        out.writeBytes(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** A HEADERS block of literal fields without Huffman coding or indexing: simple to write by hand. */
    private static byte[] requestHeaders(String path, boolean asMember) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        literal(out, ":method", "POST");
        literal(out, ":scheme", "https");
        literal(out, ":path", path);
        literal(out, ":authority", "localhost");
        literal(out, "content-type", "application/grpc");
        literal(out, "te", "trailers");
        if (asMember) {
            literal(out, "coop-member", "alice");
            literal(out, "coop-token", "token-alice");
        }
        return out.toByteArray();
    }

    private static void literal(ByteArrayOutputStream out, String name, String value) {
        out.write(0);
        hpackString(out, name);
        hpackString(out, value);
    }

    private static void hpackString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        int n = b.length;
        if (n < 127) {
            out.write(n);
        } else {
            out.write(127);
            n -= 127;
            while (n >= 128) {
                out.write((n & 0x7f) | 0x80);
                n >>>= 7;
            }
            out.write(n);
        }
        out.writeBytes(b);
    }

    /**
     * One gRPC call spoken by hand over TLS and HTTP/2, so its DATA can carry any bytes, a lying length
     * prefix included; returns the trailers (or trailers-only headers) of stream 1, or null.
     */
    private Http2Headers rawGrpcCall(String path, byte[] data) throws Exception {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
            try (SSLSocket tls = handshake(tlsContext(aliceTls), plain)) {
                tls.setSoTimeout(10_000);
                OutputStream out = tls.getOutputStream();
                out.write(PREFACE);
                out.write(frame(4, 0, 0, new byte[0]));
                out.write(frame(1, 4, 1, requestHeaders(path, true)));
                out.write(frame(0, 0, 1, data));
                out.flush();
                InputStream in = tls.getInputStream();
                DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(true);
                Http2Headers last = null;
                while (true) {
                    byte[] header = in.readNBytes(9);
                    if (header.length < 9) {
                        return last;
                    }
                    int len = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
                    int type = header[3];
                    int flags = header[4] & 0xff;
                    int stream = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8)
                            | (header[8] & 0xff);
                    byte[] payload = in.readNBytes(len);
                    if (type == 4 && (flags & 1) == 0) {
                        out.write(frame(4, 1, 0, new byte[0]));
                        out.flush();
                    }
                    if (type == 1 && stream == 1) {
                        try {
                            last = decoder.decodeHeaders(1, Unpooled.wrappedBuffer(payload));
                        } catch (Http2Exception e) {
                            throw new AssertionError("undecodable reply headers", e);
                        }
                        if ((flags & 1) != 0) {
                            return last;
                        }
                    }
                    if (type == 3 && stream == 1 || type == 7) {
                        return last;
                    }
                }
            }
        }
    }

    private SSLSocket handshake(SSLContext context, Socket plain) throws IOException {
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", server.port(), true);
        SSLParameters p = tls.getSSLParameters();
        p.setApplicationProtocols(new String[] {"h2"});
        tls.setSSLParameters(p);
        tls.setSoTimeout(2000);
        tls.startHandshake();
        tls.setSoTimeout(150);
        return tls;
    }

    /** Reads until the server closes or falls silent, so it has had its say about what it got. */
    private static void drain(Socket s) throws IOException {
        byte[] buf = new byte[8192];
        long total = 0;
        try {
            for (int n; (n = s.getInputStream().read(buf)) >= 0 && total < (1 << 20); ) {
                total += n;
            }
        } catch (SocketTimeoutException quiet) {
            // it said what it had to say
        }
    }

    private SSLContext tlsContext(Authority.Issued holder) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cf.generateCertificate(pemStream(caPem)));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore own = KeyStore.getInstance("PKCS12");
        own.load(null, null);
        if (holder != null) {
            String body = holder.privateKeyPem().replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
            own.setKeyEntry("me", key, new char[0],
                    new Certificate[] {cf.generateCertificate(pemStream(holder.certificatePem()))});
        }
        kmf.init(own, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        return context;
    }

    // ------------------------------------------------------------------ (b) random gRPC messages

    /** Who a call claims to be: the TLS certificate it comes with, and its headers. */
    private enum Who {
        MEMBER, ANONYMOUS, WRONG_TOKEN, IMPERSONATOR, GARBAGE_HEADERS, STRANGER_CERTIFICATE
    }

    private int messageBarrage(RandomGenerator random, Inputs inputs, Channel alice, Channel stranger, int count,
                               long deadline) throws Exception {
        List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
        SERVICES.forEach(s -> s.getMethods().forEach(methods::add));
        Semaphore window = new Semaphore(48);
        AtomicLong inFlight = new AtomicLong();
        int sent = 0;
        for (; sent < count && System.nanoTime() < deadline; sent++) {
            // Every method gets its turn in the first rounds, then at random.
            MethodDescriptor<?, ?> method = sent < methods.size() * 4 ? methods.get(sent % methods.size())
                    : methods.get(random.nextInt(methods.size()));
            Who caller = Who.values()[random.nextInt(10) < 5 ? 0 : random.nextInt(Who.values().length)];
            Descriptor type = requestType(method);
            String mode;
            byte[] body;
            int pick = random.nextInt(10);
            if (pick < 2) {
                mode = "near-valid";
                body = inputs.nearValid(method, type).toByteArray();
            } else if (pick < 5) {
                mode = "random";
                body = inputs.message(type).toByteArray();
            } else if (pick < 8) {
                mode = "mutated";
                body = inputs.mutate(inputs.message(type).toByteArray());
            } else if (pick < 9) {
                mode = "bytes";
                body = randomBytes(random, random.nextInt(4) == 0 ? 5000 : 64);
            } else {
                mode = "deep";
                body = inputs.deep(type);
            }
            if (caller == Who.MEMBER && random.nextBoolean()) {
                body = signedAsAlice(method, body, random);
            }
            body = safeBackupTarget(method, body, random);
            Channel channel = caller == Who.STRANGER_CERTIFICATE ? stranger : alice;
            List<byte[]> stream = new ArrayList<>();
            stream.add(body);
            if (method.getType() == MethodDescriptor.MethodType.BIDI_STREAMING) {
                for (int i = random.nextInt(5); i > 0; i--) {
                    stream.add(inputs.message(type).toByteArray());
                }
            }
            long timeoutMs = method.getType() == MethodDescriptor.MethodType.UNARY ? 5000 : 1000;
            window.acquire();
            inFlight.incrementAndGet();
            String what = method.getFullMethodName() + " as " + caller + " (" + mode + ")";
            byte[] shown = body;
            call(channel, raw(method), headers(caller, random), stream, timeoutMs).whenComplete((status, e) -> {
                window.release();
                inFlight.decrementAndGet();
                record(method.getFullMethodName(), status, what, shown);
            });
        }
        window.acquire(48);
        window.release(48);
        return sent;
    }

    private void record(String method, Status status, String what, byte[] sent) {
        outcomes.computeIfAbsent(method, m -> new ConcurrentHashMap<>())
                .computeIfAbsent(status.getCode(), c -> new AtomicInteger()).incrementAndGet();
        if (isUnhandled(status) && unhandled.size() < 20) {
            unhandled.add(what + ": " + status + (status.getCause() == null ? "" : " cause " + status.getCause())
                    + "\n    sent " + HexFormat.of().formatHex(sent, 0, Math.min(sent.length, 160)));
        }
    }

    /** A call the server answered INTERNAL or UNKNOWN: an exception the service let through. */
    private static boolean isUnhandled(Status status) {
        return status.getCode() == Status.Code.INTERNAL || status.getCode() == Status.Code.UNKNOWN;
    }

    /**
     * The body, re-signed by alice over the statement the scheduler will rebuild from it, so that the
     * governance rules (not just the signature check) see the random values.
     */
    private byte[] signedAsAlice(MethodDescriptor<?, ?> method, byte[] body, RandomGenerator random) {
        long now = System.currentTimeMillis();
        try {
            return switch (method.getBareMethodName()) {
                case "Propose" -> {
                    ProposeRequest r = ProposeRequest.parseFrom(body).toBuilder().setSignedAtMs(now).build();
                    yield r.toBuilder().setSignature(keys.sign(SignedStatements.propose("alice", r))).build()
                            .toByteArray();
                }
                case "Vote" -> {
                    VoteRequest r = VoteRequest.parseFrom(body).toBuilder().setSignedAtMs(now).build();
                    yield r.toBuilder().setSignature(keys.sign(SignedStatements.ballot("alice", r))).build()
                            .toByteArray();
                }
                case "Delegate" -> {
                    DelegateRequest r = DelegateRequest.parseFrom(body).toBuilder().setSignedAtMs(now).build();
                    yield r.toBuilder().setSignature(keys.sign(SignedStatements.delegate("alice", r))).build()
                            .toByteArray();
                }
                case "Review" -> {
                    ReviewRequest r = ReviewRequest.parseFrom(body).toBuilder().setSignedAtMs(now).build();
                    yield r.toBuilder().setSignature(keys.sign(SignedStatements.review("alice", r))).build()
                            .toByteArray();
                }
                case "Certify" -> {
                    CertifyRequest r = CertifyRequest.parseFrom(body).toBuilder().setMember("alice")
                            .setSignedAtMs(now).build();
                    if (random.nextBoolean()) {
                        r = r.toBuilder().setPublicKey(random.nextBoolean() ? "-----BEGIN PUBLIC KEY-----\n"
                                + Base64.getMimeEncoder().encodeToString(randomBytes(random, 91))
                                + "\n-----END PUBLIC KEY-----" : freshTlsPublicKey()).build();
                    }
                    SortedMap<String, Object> st = Statements.certify("alice", now, r.getPublicKey());
                    yield r.toBuilder().setSignature(keys.sign(st)).build().toByteArray();
                }
                default -> body;
            };
        } catch (InvalidProtocolBufferException | coop.scheduler.domain.CoopException unsignable) {
            return body;
        }
    }

    private static String freshTlsPublicKey() {
        try {
            var g = java.security.KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(
                    g.generateKeyPair().getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----";
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Backups go where the test says when the random bytes ask for an absolute path: the scheduler
     * keeps them under its backup root, in the temp folder, and this keeps a bug in that from
     * writing elsewhere. Sometimes the root itself, the data directory and a way out by {@code ..}.
     */
    private byte[] safeBackupTarget(MethodDescriptor<?, ?> method, byte[] body, RandomGenerator random) {
        if (!method.getFullMethodName().equals(AdminGrpc.getBackupMethod().getFullMethodName())) {
            return body;
        }
        try {
            BackupRequest r = BackupRequest.parseFrom(body);
            if (!r.getTo().startsWith("/") && !r.getTo().startsWith("\\")) {
                return body;
            }
            String to = switch (random.nextInt(5)) {
                case 0 -> data.resolve("inside").toString();
                case 1 -> dir.resolve("backups").resolve("b" + random.nextInt(1_000_000)).toString();
                case 2 -> "../b" + random.nextInt(1_000_000);
                case 3 -> dir.resolve("backups").toString();
                default -> dir.toString();
            };
            return r.toBuilder().setTo(to).build().toByteArray();
        } catch (InvalidProtocolBufferException unparsable) {
            return body;
        }
    }

    private Metadata headers(Who caller, RandomGenerator random) {
        Metadata h = new Metadata();
        switch (caller) {
            case MEMBER -> {
                h.put(coop.scheduler.rpc.Caller.MEMBER, "alice");
                h.put(coop.scheduler.rpc.Caller.TOKEN, "token-alice");
            }
            case WRONG_TOKEN -> {
                h.put(coop.scheduler.rpc.Caller.MEMBER, "alice");
                h.put(coop.scheduler.rpc.Caller.TOKEN, randomAscii(random, 40));
            }
            case IMPERSONATOR -> {
                h.put(coop.scheduler.rpc.Caller.MEMBER, "bob");
                h.put(coop.scheduler.rpc.Caller.TOKEN, "token-bob");
            }
            case GARBAGE_HEADERS -> {
                if (random.nextBoolean()) {
                    h.put(coop.scheduler.rpc.Caller.MEMBER, randomAscii(random, random.nextInt(300)));
                }
                if (random.nextBoolean()) {
                    h.put(coop.scheduler.rpc.Caller.TOKEN, randomAscii(random, random.nextInt(300)));
                }
                if (random.nextBoolean()) {
                    h.put(PeerAddress.NODE, randomAscii(random, 20));
                    h.put(PeerAddress.NODE_TOKEN, randomAscii(random, 20));
                }
            }
            case STRANGER_CERTIFICATE -> {
                if (random.nextBoolean()) {
                    h.put(coop.scheduler.rpc.Caller.MEMBER, "mallory");
                    h.put(coop.scheduler.rpc.Caller.TOKEN, "token-mallory");
                }
            }
            case ANONYMOUS -> {
            }
        }
        return h;
    }

    // ------------------------------------------------------------------ agents' Connect stream

    private int connectBarrage(RandomGenerator random, Inputs inputs, Channel agent, Metadata agentHeaders,
                               Channel alice, int count, long deadline) throws Exception {
        MethodDescriptor<byte[], byte[]> connect = raw(NodesGrpc.getConnectMethod());
        Descriptor type = AgentMessage.getDescriptor();
        List<CompletableFuture<Status>> calls = new ArrayList<>();
        int opened = 0;
        for (; opened < count && System.nanoTime() < deadline; opened++) {
            List<byte[]> sequence = new ArrayList<>();
            boolean asNode = random.nextInt(4) != 0;
            if (random.nextInt(3) != 0) {
                Hello.Builder hello = Hello.newBuilder().setNode(random.nextInt(5) == 0 ? "n2" : "n1")
                        .setSite(random.nextInt(5) == 0 ? "south" : "north");
                if (random.nextBoolean()) {
                    hello.mergeFrom(inputs.message(Hello.getDescriptor()));
                }
                sequence.add(AgentMessage.newBuilder().setHello(hello).build().toByteArray());
            }
            for (int i = random.nextInt(12); i > 0; i--) {
                int pick = random.nextInt(10);
                sequence.add(pick < 7 ? inputs.message(type).toByteArray()
                        : pick < 9 ? inputs.mutate(inputs.message(type).toByteArray())
                        : randomBytes(random, 64));
            }
            Metadata headers = asNode ? agentHeaders : headers(Who.values()[random.nextInt(5)], random);
            String what = "Connect as " + (asNode ? "node n1" : "a member") + ", " + sequence.size() + " messages";
            byte[] shown = sequence.isEmpty() ? new byte[0] : sequence.get(sequence.size() - 1);
            calls.add(call(asNode ? agent : alice, connect, headers, sequence, 500 + random.nextInt(1000))
                    .whenComplete((status, e) -> record(connect.getFullMethodName(), status, what, shown)));
            if (calls.size() >= 16) {
                CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                calls.clear();
            }
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        return opened;
    }

    // ------------------------------------------------------------------ after the barrage

    private void assertStillServing(Channel channel) throws Exception {
        assertThat(server.isServing()).as("server and event loop running").isTrue();
        var jobs = JobsGrpc.newBlockingStub(channel).withInterceptors(asMember("alice", "token-alice"))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        SubmitResponse submitted = jobs.submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setCommand("echo still here").setName("after-the-barrage").build());
        var job = jobs.getJob(GetJobRequest.newBuilder().setJobId(submitted.getJobId()).build());
        assertThat(job.getId()).isEqualTo(submitted.getJobId());
        assertThat(job.getAccount()).isEqualTo("lab-a");
        assertThat(job.getMember()).isEqualTo("alice");
        assertThat(job.getCommand()).isEqualTo("echo still here");
        assertThat(job.getName()).isEqualTo("after-the-barrage");
        var proposals = GovernanceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .listProposals(ListProposalsRequest.getDefaultInstance());
        assertThat(proposals).isNotNull();
        assertThat(server.isServing()).isTrue();

        // As `coop ledger verify --data` does, beside the running scheduler.
        try (Store readOnly = Store.openReadOnly(data)) {
            LedgerVerifier.Report report = LedgerVerifier.verify(Ledger.rawEntries(readOnly));
            assertThat(report.problem()).isNull();
            assertThat(report.ok()).isTrue();
        }
        // And the store recovers: a restarted scheduler has the job.
        server.close();
        server = null;
        server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(5), null)
                .withBackupRoot(dir.resolve("backups")), InstantSource.system());
        ManagedChannel again = channel(aliceTls);
        var reread = JobsGrpc.newBlockingStub(again).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getJob(GetJobRequest.newBuilder().setJobId(submitted.getJobId()).build());
        assertThat(reread.getCommand()).isEqualTo("echo still here");
        try (Store readOnly = Store.openReadOnly(data)) {
            assertThat(LedgerVerifier.verify(Ledger.rawEntries(readOnly)).problem()).isNull();
        }
    }

    // ------------------------------------------------------------------ plumbing

    private ManagedChannel channel(Authority.Issued holder) throws IOException {
        ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
                .keyManager(pemStream(holder.certificatePem()), pemStream(holder.privateKeyPem()))
                .trustManager(pemStream(caPem)).build();
        ManagedChannel c = NettyChannelBuilder.forAddress("localhost", server.port(), credentials)
                .maxInboundMessageSize(64 << 20).build();
        channels.add(c);
        return c;
    }

    private static InputStream pemStream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    private static io.grpc.ClientInterceptor asMember(String member, String token) {
        Metadata h = new Metadata();
        h.put(coop.scheduler.rpc.Caller.MEMBER, member);
        h.put(coop.scheduler.rpc.Caller.TOKEN, token);
        return MetadataUtils.newAttachHeadersInterceptor(h);
    }

    private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> m) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(m.getType())
                .setFullMethodName(m.getFullMethodName()).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES)
                .build();
    }

    private static Descriptor requestType(MethodDescriptor<?, ?> m) {
        var marshaller = (MethodDescriptor.PrototypeMarshaller<?>) m.getRequestMarshaller();
        return ((Message) marshaller.getMessagePrototype()).getDescriptorForType();
    }

    private static MethodDescriptor<?, ?> randomMethod(RandomGenerator random) {
        ServiceDescriptor s = SERVICES.get(random.nextInt(SERVICES.size()));
        List<MethodDescriptor<?, ?>> methods = List.copyOf(s.getMethods());
        return methods.get(random.nextInt(methods.size()));
    }

    /** Sends the messages on one call, half-closes, and completes with the status the call ended with. */
    private CompletableFuture<Status> call(Channel channel, MethodDescriptor<byte[], byte[]> method, Metadata headers,
                                           List<byte[]> messages, long timeoutMs) {
        CompletableFuture<Status> done = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(method,
                CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS));
        boolean submit = method.getFullMethodName().equals(JobsGrpc.getSubmitMethod().getFullMethodName());
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                if (submit) {
                    try {
                        jobIds.add(SubmitResponse.parseFrom(message).getJobId());
                    } catch (InvalidProtocolBufferException e) {
                        // not ours to judge here
                    }
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                done.complete(status);
            }
        }, headers);
        call.request(Integer.MAX_VALUE);
        try {
            for (byte[] m : messages) {
                call.sendMessage(m);
            }
            call.halfClose();
        } catch (RuntimeException e) {
            call.cancel("client could not send", e);
        }
        return done;
    }

    private static byte[] randomBytes(RandomGenerator random, int max) {
        byte[] b = new byte[random.nextInt(max + 1)];
        random.nextBytes(b);
        return b;
    }

    private static String randomAscii(RandomGenerator random, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append((char) (0x20 + random.nextInt(0x5f)));
        }
        return b.toString();
    }

    /** Random field values that lean towards the ones that break code: edges, huge, unknown, near-valid. */
    private final class Inputs {
        private final RandomGenerator random;
        private final List<String> strings = List.of("", "alice", "bob", "mallory", "lab-a", "lab-b", "n1", "n2",
                "north", "south", "A100", "A100,H100", ",", "A100,,", "shares", "params", "membership", "create",
                "close", "true", "false", "yes", "2/3", "60%", "0/0", "1/0", "-1/3", "3/2", "100%", "101%", "-5%",
                "99999999999999999999/1", "%", "/", "1/99999999999999999999", "NaN", "Mon-Fri 20:00-08:00",
                "Mon-Sun", "Sun-Mon 24:00-00:00", "Fri-Mon", "Xyz 10:00-11:00", "Mon 25:61-99:99", "Mon 10:00",
                "UTC", "Europe/Paris", "Not/AZone", "+99:00", "half_life_s", "preemption_grace_s", "reserve_cap_bp",
                "max_walltime_s", "max_pending_per_member", "voting_period_s", "panel_size", "panel_min_gpus",
                "dual-use", "bogus_param", "../../etc/passwd", "relative/path", "\u0000", "é\u0301名前\uD83D\uDE00",
                "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----", "-----END PUBLIC KEY----- "
                        + "-----BEGIN PUBLIC KEY-----", "AAAA", "member", "researcher", "operator", "admin");
        private final long[] longs = {0, 1, -1, 2, 3, 7, 100, 10000, 10001, -10000, 3600, 86_400, 31_536_000_000L,
                Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L, Long.MAX_VALUE, Long.MIN_VALUE,
                Long.MAX_VALUE / 1000, Long.MIN_VALUE / 1000, 1L << 53};

        Inputs(RandomGenerator random) {
            this.random = random;
        }

        Message message(Descriptor d) {
            return message(d, 0);
        }

        /** A valid request for the method with one or two fields replaced by random values. */
        Message nearValid(MethodDescriptor<?, ?> method, Descriptor d) {
            Message template = switch (method.getBareMethodName()) {
                case "Submit" -> SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setCommand("true")
                        .setWalltimeSeconds(60).build();
                case "Propose" -> ProposeRequest.newBuilder().setTitle("t").setShares(coop.v1.SharesChange.newBuilder()
                        .addShares(share("lab-a", 5000)).addShares(share("lab-b", 5000))).build();
                case "Vote" -> VoteRequest.newBuilder().setProposalId(1 + random.nextInt(3))
                        .setChoice(coop.v1.Choice.YES).build();
                case "Delegate" -> DelegateRequest.newBuilder().setTopic("shares").setTo("bob").build();
                case "Enroll" -> EnrollRequest.newBuilder().setName("n" + random.nextInt(5)).setSite("north")
                        .setAccount("lab-a").build();
                case "SetTerms" -> coop.v1.SetTermsRequest.newBuilder().setName("n1").setReservedGpus(1)
                        .setSetWindows(true).addWindows("Mon-Fri 20:00-08:00").setTimeZone("UTC").build();
                case "Drain" -> coop.v1.DrainRequest.newBuilder().setName("n1").setDrain(true).build();
                default -> DynamicMessage.getDefaultInstance(d);
            };
            DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
            try {
                b.mergeFrom(template.toByteString());
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
            List<FieldDescriptor> fields = d.getFields();
            for (int n = 1 + random.nextInt(2); n > 0 && !fields.isEmpty(); n--) {
                FieldDescriptor f = fields.get(random.nextInt(fields.size()));
                if (f.isRepeated()) {
                    b.addRepeatedField(f, value(f, 1));
                } else {
                    b.setField(f, value(f, 1));
                }
            }
            return b.build();
        }

        private static coop.v1.AccountShare share(String account, int bp) {
            return coop.v1.AccountShare.newBuilder().setAccount(account).setBasisPoints(bp).build();
        }

        private Message message(Descriptor d, int depth) {
            DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
            for (FieldDescriptor f : d.getFields()) {
                if (random.nextInt(3) == 0) {
                    continue;
                }
                if (f.isRepeated()) {
                    int n = switch (random.nextInt(8)) {
                        case 0 -> 0;
                        case 1 -> 200 + random.nextInt(2000);
                        default -> 1 + random.nextInt(4);
                    };
                    if (depth > 2) {
                        n = Math.min(n, 2);
                    }
                    for (int i = 0; i < n; i++) {
                        b.addRepeatedField(f, value(f, depth));
                    }
                } else {
                    b.setField(f, value(f, depth));
                }
            }
            return b.build();
        }

        private Object value(FieldDescriptor f, int depth) {
            return switch (f.getJavaType()) {
                case INT -> (int) number();
                case LONG -> number();
                case BOOLEAN -> random.nextBoolean();
                case FLOAT -> (float) random.nextGaussian() * 1e6f;
                case DOUBLE -> random.nextGaussian() * 1e12;
                case STRING -> string();
                case BYTE_STRING -> ByteString.copyFrom(randomBytes(random, random.nextInt(10) == 0 ? 100_000 : 64));
                case ENUM -> f.getEnumType().findValueByNumberCreatingIfUnknown(random.nextInt(4) == 0
                        ? (int) number() : random.nextInt(f.getEnumType().getValues().size() + 1));
                case MESSAGE -> depth > 4 ? DynamicMessage.getDefaultInstance(f.getMessageType())
                        : message(f.getMessageType(), depth + 1);
            };
        }

        private long number() {
            int pick = random.nextInt(10);
            if (pick < 4) {
                return longs[random.nextInt(longs.length)];
            }
            if (pick < 6 && !jobIds.isEmpty()) {
                return jobIds.get(random.nextInt(jobIds.size())) + random.nextInt(3) - 1;
            }
            if (pick < 7) {
                return System.currentTimeMillis() + (random.nextBoolean() ? 1 : -1) * random.nextLong(1L << 42);
            }
            if (pick < 9) {
                return random.nextInt(-20, 20_001);
            }
            return random.nextLong();
        }

        private String string() {
            return switch (random.nextInt(12)) {
                case 0 -> "x".repeat(random.nextInt(4) == 0 ? 1 << 20 : 100_000);
                case 1 -> randomAscii(random, random.nextInt(80));
                case 2 -> {
                    StringBuilder b = new StringBuilder();
                    for (int i = random.nextInt(40); i > 0; i--) {
                        int c = random.nextInt(0x30000);
                        // Lone surrogates cannot be encoded at all: the client would fail, not the server.
                        b.appendCodePoint(Character.isSurrogate((char) c) && c <= 0xffff ? 0xfffd : c);
                    }
                    yield b.toString();
                }
                case 3 -> strings.get(random.nextInt(strings.size())) + strings.get(random.nextInt(strings.size()));
                default -> strings.get(random.nextInt(strings.size()));
            };
        }

        /** Flips, drops, duplicates and inserts bytes, or cuts the message short. */
        byte[] mutate(byte[] in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(in);
            byte[] b = out.toByteArray();
            for (int n = 1 + random.nextInt(4); n > 0; n--) {
                if (b.length == 0) {
                    b = randomBytes(random, 16);
                    continue;
                }
                int at = random.nextInt(b.length);
                switch (random.nextInt(5)) {
                    case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> b[at] = (byte) random.nextInt(256);
                    case 2 -> b = java.util.Arrays.copyOf(b, at);
                    case 3 -> {
                        byte[] c = new byte[b.length + 1 + random.nextInt(8)];
                        System.arraycopy(b, 0, c, 0, at);
                        for (int i = at; i < at + c.length - b.length; i++) {
                            c[i] = (byte) random.nextInt(256);
                        }
                        System.arraycopy(b, at, c, at + c.length - b.length, b.length - at);
                        b = c;
                    }
                    default -> {
                        // A length-delimited field whose length says more than follows.
                        byte[] c = java.util.Arrays.copyOf(b, b.length + 6);
                        c[b.length] = (byte) ((1 + random.nextInt(15)) << 3 | 2);
                        c[b.length + 1] = (byte) 0xff;
                        c[b.length + 2] = (byte) 0xff;
                        c[b.length + 3] = (byte) 0xff;
                        c[b.length + 4] = (byte) 0xff;
                        c[b.length + 5] = 0x07;
                        b = c;
                    }
                }
            }
            return b;
        }

        /** A message nested far past protobuf's recursion limit, in the first message-typed field. */
        byte[] deep(Descriptor d) {
            int field = d.getFields().stream().filter(f -> f.getJavaType() == FieldDescriptor.JavaType.MESSAGE)
                    .mapToInt(FieldDescriptor::getNumber).findFirst().orElse(1 + random.nextInt(15));
            byte[] b = new byte[0];
            for (int i = 0; i < 2000; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                writeVarint(out, (long) field << 3 | 2);
                writeVarint(out, b.length);
                out.writeBytes(b);
                b = out.toByteArray();
            }
            return b;
        }

        private static void writeVarint(ByteArrayOutputStream out, long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
