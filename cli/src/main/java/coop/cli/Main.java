package coop.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code coop} command. Client commands talk to a scheduler over gRPC as the member
 * named in the identity file; failures print one {@code error: ...} line (see
 * {@link Errors}). Build the command line with {@link #commandLine()}, or for one call
 * with {@link #commandLine(String...)}.
 */
@Command(name = "coop", mixinStandardHelpOptions = true, version = "coop 0.1.0",
        description = "A cooperative GPU scheduler: members vote how GPU time is shared; the scheduler enacts it.")
public final class Main implements Runnable {

    /**
     * Every subcommand, in the order {@code coop --help} lists them. Registered by
     * {@link #commandLine(String...)} rather than through {@code @Command(subcommands = ...)}
     * so that a call naming one of them builds only that one: picocli instantiates each
     * subcommand and reflects over its options, which for all of them costs more than a
     * researcher's {@code coop submit} should.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            // Setting up and running the cooperative.
            DemoCommand.class,
            InitCommand.class,
            SchedulerCommand.class,
            BackupCommand.class,
            AgentCommand.class,
            NodeCommand.class,
            SimulateCommand.class,
            BenchCommand.class,

            // Researchers: jobs.
            SubmitCommand.class,
            JobsCommand.class,
            JobCommand.class,
            CancelCommand.class,
            LogsCommand.class,
            // The cluster.
            NodesCommand.class,
            UsageCommand.class,
            // Members: governance.
            ProposeCommand.class,
            VoteCommand.class,
            ProposalsCommand.class,
            PolicyCommand.class,
            ProposalCommand.class,
            DelegateCommand.class,
            ReviewCommand.class,
            PanelCommand.class,
            LedgerCommand.class,
            MemberCommand.class,

            CommandLine.HelpCommand.class);

    @Spec
    CommandSpec spec;

    /**
     * Subcommands that run for minutes or for good (servers, benchmarks, simulations, the
     * demo). The {@code ./coop} launcher gives every other subcommand JVM flags for a short
     * process; {@link #preferShortLivedSetUp} spares those Netty's native libraries and the
     * JDK's public trust store.
     */
    static final Set<String> LONG_RUNNING = Set.of("scheduler", "agent", "demo", "bench", "simulate");

    public static void main(String[] args) {
        String subcommand = args.length == 0 ? "" : args[0];
        preferShortLivedSetUp(subcommand);
        preferVforkLaunch(subcommand);
        if (!LONG_RUNNING.contains(subcommand) && !subcommand.isEmpty() && !subcommand.startsWith("-")
                && !subcommand.equals("help")) {
            TlsWarmUp.start();
        }
        System.exit(commandLine(args).execute(args));
    }

    /** Netty's (shaded) switch from OpenSSL to the JDK's TLS; the launcher sets it false for short calls. */
    static final String NO_OPENSSL = "io.grpc.netty.shaded.io.netty.handler.ssl.noOpenSsl";

    /**
     * Unless {@code subcommand} is {@link #LONG_RUNNING}, has Netty use its NIO transport rather
     * than its native epoll transport, the JDK's TLS rather than OpenSSL (BoringSSL), and emit no
     * JFR events; and leaves the JDK's default trust store empty. Each native library is unpacked
     * from the jar into a temporary folder and loaded on every run, and the JFR events make the
     * JVM set up its flight recorder classes, which cannot be archived: a process making one call
     * pays for all three and never earns them back. The {@code ./coop} launcher hands a short call
     * the TLS library already unpacked at build time (a {@code java.library.path} and
     * {@code noOpenSsl=false} of its own), which loads faster than the JDK's TLS starts. The JDK's
     * trust store (its public CAs) is read only by Netty's probe for the default cipher suites: a
     * client trusts its cooperative's CA alone ({@link coop.agent.ClientTls}), and parsing the
     * 140-odd public certificates costs a new JVM some 60 ms of CPU. Must run before Netty's first
     * class loads; a {@code -D} given on the command line wins.
     */
    static void preferShortLivedSetUp(String subcommand) {
        if (LONG_RUNNING.contains(subcommand)) {
            return;
        }
        Map<String, String> properties = Map.of(
                "io.grpc.netty.shaded.io.netty.transport.noNative", "true",
                NO_OPENSSL, "true",
                "io.grpc.netty.shaded.io.netty.jfr.enabled", "false",
                "javax.net.ssl.trustStore", "NONE");
        properties.forEach((property, value) -> {
            if (System.getProperty(property) == null) {
                System.setProperty(property, value);
            }
        });
    }

    /** Subcommands that start ranks as processes: an agent, and the demo and benches that run one. */
    static final Set<String> LAUNCHING = Set.of("agent", "demo", "bench");

    /**
     * For {@link #LAUNCHING} subcommands on Linux with a JDK that still has it (up to 24; 25
     * deprecates it), has {@link ProcessBuilder} start processes with {@code vfork} and exec the
     * command itself, rather than with {@code posix_spawn} of the JDK's {@code jspawnhelper},
     * which then execs the command: one exec per rank instead of two. An exec is most of what a
     * short rank costs the node (a process image, a dynamic link, the C library's CPU probe).
     * The JDK's child code between vfork and exec touches no shared state; it was the JDK's own
     * default on Linux up to JDK 11. Must run before the first process starts; a {@code -D} given
     * on the command line wins.
     */
    static void preferVforkLaunch(String subcommand) {
        if (LAUNCHING.contains(subcommand) && Runtime.version().feature() < 25
                && System.getProperty("os.name", "").equals("Linux")
                && System.getProperty("jdk.lang.Process.launchMechanism") == null) {
            System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
        }
    }

    /**
     * The full command line: every subcommand, enum values accepted in any case,
     * {@code submit} taking the words after its first positional as the job's command,
     * and {@link Errors} handling failures (stack traces when {@code COOP_DEBUG=1}).
     */
    public static CommandLine commandLine() {
        return configure(SUBCOMMANDS);
    }

    /**
     * The command line that runs {@code args}: when they start with a subcommand's name,
     * the same as {@link #commandLine()} but holding that subcommand alone; otherwise (help,
     * a version request, a mistyped or missing name, which picocli answers with the list of
     * commands or "did you mean") the full one. Either parses and runs {@code args} alike.
     */
    public static CommandLine commandLine(String... args) {
        return named(args).map(c -> configure(List.of(c))).orElseGet(Main::commandLine);
    }

    /** The subcommand {@code args} start with, if they start with one other than {@code help}. */
    static Optional<Class<?>> named(String... args) {
        if (args.length == 0 || args[0].equals("help")) {
            return Optional.empty();
        }
        for (Class<?> c : SUBCOMMANDS) {
            Command command = c.getAnnotation(Command.class);
            if (command.name().equals(args[0]) || Arrays.asList(command.aliases()).contains(args[0])) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    private static CommandLine configure(List<Class<?>> subcommands) {
        CommandLine commandLine = new CommandLine(new Main());
        for (Class<?> c : subcommands) {
            commandLine.addSubcommand(c);
        }
        ClientCommand.mixClientOptions(commandLine);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Errors.fromEnvironment());
        // `coop submit ... python train.py --lr 3` works without `--`: options end at the command.
        CommandLine submit = commandLine.getSubcommands().get("submit");
        if (submit != null) {
            submit.setStopAtPositional(true);
        }
        return commandLine;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command");
    }
}
