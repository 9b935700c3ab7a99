package coop.cli;

import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of the commands that call the scheduler: the shared {@link ClientOptions}, the
 * output streams of the command line that runs them (so tests can capture them), and a
 * clock for "how long ago" columns. Subclasses implement {@link #run()}. The options join a
 * command's model through {@link #mixClientOptions}, which {@link Main} applies to every
 * command line it builds.
 */
abstract class ClientCommand implements Callable<Integer> {

    final ClientOptions client = new ClientOptions();

    @Spec
    CommandSpec spec;

    /** Reads "now" for ages and dates; the system clock outside tests. */
    InstantSource clock = InstantSource.system();

    @Override
    public final Integer call() throws Exception {
        try {
            return run();
        } finally {
            out().flush();
            err().flush();
        }
    }

    /**
     * Adds its {@link ClientOptions} to every command in {@code commandLine}'s tree (itself and
     * its subcommands, at any depth) that is a client command and lacks them.
     */
    static void mixClientOptions(CommandLine commandLine) {
        CommandSpec command = commandLine.getCommandSpec();
        if (command.userObject() instanceof ClientCommand c && !command.mixins().containsKey(ClientOptions.MIXIN)) {
            command.addMixin(ClientOptions.MIXIN, c.client.mixin());
        }
        commandLine.getSubcommands().values().forEach(ClientCommand::mixClientOptions);
    }

    /** Does the command's work and returns its exit code. */
    abstract int run() throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
