package coop.cli;

import io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory;
import io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

/**
 * The {@code coop} command. Client commands talk to a scheduler over gRPC as the member
 * named in the identity file; failures print one {@code error: ...} line (see
 * {@link Errors}). Build the command line with {@link #commandLine()}, or for one call
 * with {@link #commandLine(String...)}.
 *
 * <p>This command and the researcher's frequent calls, {@link SubmitCommand} and
 * {@link JobsCommand}, build their picocli models in code ({@link Models}); the other subcommands
 * are annotated classes. A call of {@code coop submit} then never has picocli read an annotation:
 * in a new JVM the first annotation read costs some 25 ms (the JDK's annotation parser and the
 * proxy classes annotations are read through), and picocli's reflection over an annotated
 * command and its help mixin 40 ms more, where building the same model in code takes a few.
 */
public final class Main implements Runnable {

    static final String VERSION = "coop 0.1.0";

    /**
     * The product's subcommands, in the order {@code coop --help} lists them (with the lab's, see
     * {@link #subcommands()}). Registered by
     * {@link #commandLine(String...)} rather than all at once, so that a call naming one of them
     * builds only that one: picocli instantiates each subcommand and reflects over its options,
     * which for all of them costs more than a researcher's {@code coop submit} should.
     */
    static final List<Subcommand> SUBCOMMANDS = List.of(
            // Setting up and running the cooperative; the lab's commands (LabCommands) follow simulate.
            Subcommand.annotated(InitCommand.class),
            Subcommand.annotated(SchedulerCommand.class),
            Subcommand.annotated(ReplicasCommand.class),
            Subcommand.annotated(BackupCommand.class),
            Subcommand.annotated(AgentCommand.class),
            Subcommand.annotated(NodeCommand.class),
            Subcommand.SIMULATE,

            // Researchers: jobs.
            Subcommand.modelled(SubmitCommand.NAME, SubmitCommand::model),
            Subcommand.modelled(JobsCommand.NAME, JobsCommand::model),
            Subcommand.modelled(HistoryCommand.NAME, HistoryCommand::model),
            Subcommand.annotated(JobCommand.class),
            Subcommand.annotated(CancelCommand.class),
            Subcommand.annotated(LogsCommand.class),
            // The cluster.
            Subcommand.annotated(NodesCommand.class),
            Subcommand.annotated(UsageCommand.class),
            // Members: governance.
            Subcommand.annotated(ProposeCommand.class),
            Subcommand.annotated(VoteCommand.class),
            Subcommand.annotated(ProposalsCommand.class),
            Subcommand.annotated(PolicyCommand.class),
            Subcommand.annotated(ProposalCommand.class),
            Subcommand.annotated(DelegateCommand.class),
            Subcommand.annotated(RespondCommand.class),
            Subcommand.annotated(ReviewCommand.class),
            Subcommand.annotated(ReportCommand.class),
            Subcommand.annotated(PanelCommand.class),
            Subcommand.annotated(LedgerCommand.class),
            Subcommand.annotated(AuditCommand.class),
            Subcommand.annotated(MemberCommand.class),

            Subcommand.annotated(CommandLine.HelpCommand.class));


    /** The lab's commands on the class path ({@link LabCommands}); found on first use. */
    private static List<Subcommand> lab;

    /**
     * The product's {@link #SUBCOMMANDS} and the lab's, in the order {@code coop --help} lists them.
     */
    static List<Subcommand> subcommands() {
        List<Subcommand> all = new ArrayList<>(SUBCOMMANDS);
        all.addAll(SUBCOMMANDS.indexOf(Subcommand.SIMULATE) + 1, lab());
        return all;
    }

    private static synchronized List<Subcommand> lab() {
        if (lab == null) {
            List<Subcommand> found = new ArrayList<>();
            for (LabCommands commands : ServiceLoader.load(LabCommands.class, Main.class.getClassLoader())) {
                commands.commands().forEach(c -> found.add(Subcommand.annotated(c)));
            }
            lab = List.copyOf(found);
        }
        return lab;
    }

    /**
     * One subcommand of {@code coop}: a class picocli reads the annotations of, or one whose
     * model a factory builds in code (its name is then known without building it).
     */
    static final class Subcommand {
        /** {@code simulate}, which the lab's commands follow in {@code coop --help}. */
        static final Subcommand SIMULATE = annotated(SimulateCommand.class);

        private final Class<?> annotated;
        private final String modelledName;
        private final Supplier<CommandSpec> model;

        private Subcommand(Class<?> annotated, String modelledName, Supplier<CommandSpec> model) {
            this.annotated = annotated;
            this.modelledName = modelledName;
            this.model = model;
        }

        static Subcommand annotated(Class<?> command) {
            return new Subcommand(command, null, null);
        }

        static Subcommand modelled(String name, Supplier<CommandSpec> model) {
            return new Subcommand(null, name, model);
        }

        /** Whether its model is built in code, so that finding it by name reads no annotation. */
        boolean modelled() {
            return annotated == null;
        }

        String name() {
            return modelled() ? modelledName : annotated.getAnnotation(Command.class).name();
        }

        /** Whether {@code word} names it (its name, or for an annotated one an alias). */
        boolean isCalled(String word) {
            if (modelled()) {
                return modelledName.equals(word);
            }
            Command command = annotated.getAnnotation(Command.class);
            return command.name().equals(word) || Arrays.asList(command.aliases()).contains(word);
        }

        void addTo(CommandLine parent) {
            if (modelled()) {
                parent.addSubcommand(modelledName, new CommandLine(model.get()));
            } else {
                parent.addSubcommand(annotated);
            }
        }

        @Override
        public String toString() {
            return modelled() ? modelledName : annotated.getSimpleName();
        }
    }

    /** Set by {@link #model()}. */
    private CommandSpec spec;

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
     * than its native epoll transport, the JDK's TLS rather than OpenSSL (BoringSSL), unpooled
     * buffers, and emit no JFR events; and leaves the JDK's default trust store empty. Each native
     * library is unpacked from the jar into a temporary folder and loaded on every run, and the JFR
     * events make the JVM set up its flight recorder classes, which cannot be archived: a process
     * making one call pays for all three and never earns them back. The {@code ./coop} launcher
     * hands a short call the TLS library already unpacked at build time (a
     * {@code java.library.path} and {@code noOpenSsl=false} of its own), which loads faster than
     * the JDK's TLS starts. Netty's pooled allocators (its default, and gRPC's own) set up arenas
     * and per-thread caches on first use, some 10 ms of a call that allocates a few buffers; gRPC
     * takes Netty's {@code allocator.type} for its own. The JDK's trust store (its public CAs) is
     * read only by Netty's probe for the default cipher suites: a client trusts its cooperative's
     * CA alone ({@link coop.agent.ClientTls}), and parsing the 140-odd public certificates costs a
     * new JVM some 60 ms of CPU. Netty logs through {@code java.util.logging}, as gRPC does, rather
     * than SLF4J: finding SLF4J's provider reads the jar's service files and sets up slf4j-simple,
     * some 10 ms at the head of the TLS warm-up ({@link TlsWarmUp}), which the call waits for.
     * And Netty gets a random machine id for its channel ids, which is what it falls back to
     * anyway when it finds no hardware address: it then skips walking the network interfaces,
     * and a call made where there are none (a container, a network namespace with loopback only)
     * prints no warning about it. Must run before Netty's first class loads; for the properties,
     * a {@code -D} given on the command line wins (the logger factory is always set).
     */
    static void preferShortLivedSetUp(String subcommand) {
        if (LONG_RUNNING.contains(subcommand)) {
            return;
        }
        Map<String, String> properties = Map.of(
                "io.grpc.netty.shaded.io.netty.transport.noNative", "true",
                NO_OPENSSL, "true",
                "io.grpc.netty.shaded.io.netty.allocator.type", "unpooled",
                "io.grpc.netty.shaded.io.netty.machineId", randomMachineId(),
                "io.grpc.netty.shaded.io.netty.jfr.enabled", "false",
                "javax.net.ssl.trustStore", "NONE");
        for (Map.Entry<String, String> property : properties.entrySet()) {
            if (System.getProperty(property.getKey()) == null) {
                System.setProperty(property.getKey(), property.getValue());
            }
        }
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    }

    /** Eight random bytes in the EUI-64 form Netty reads a {@code machineId} in: {@code 0a:1b:...}. */
    static String randomMachineId() {
        byte[] id = new byte[8];
        ThreadLocalRandom.current().nextBytes(id);
        return HexFormat.ofDelimiter(":").formatHex(id);
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
        return configure(subcommands());
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

    /**
     * The subcommand {@code args} start with, if they start with one other than {@code help}. The
     * modelled subcommands are looked at first, so that naming one of them reads no annotation,
     * and the lab's last, so that naming one of the product's looks for no lab.
     */
    static Optional<Subcommand> named(String... args) {
        if (args.length == 0 || args[0].equals("help")) {
            return Optional.empty();
        }
        for (boolean modelled : new boolean[] {true, false}) {
            for (Subcommand c : SUBCOMMANDS) {
                if (c.modelled() == modelled && c.isCalled(args[0])) {
                    return Optional.of(c);
                }
            }
        }
        return lab().stream().filter(c -> c.isCalled(args[0])).findFirst();
    }

    private static CommandLine configure(List<Subcommand> subcommands) {
        CommandLine commandLine = new CommandLine(model());
        for (Subcommand c : subcommands) {
            c.addTo(commandLine);
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

    /** The {@code coop} command's own model: its name, version, description and help options. */
    private static CommandSpec model() {
        Main main = new Main();
        main.spec = CommandSpec.wrapWithoutInspection(main).name("coop").version(VERSION);
        main.spec.usageMessage().description(
                "A cooperative GPU scheduler: members vote how GPU time is shared; the scheduler enacts it.");
        Models.addStandardHelpOptions(main.spec);
        return main.spec;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command");
    }
}
