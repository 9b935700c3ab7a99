package coop.cli;

import java.io.PrintWriter;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of the commands that call the scheduler: the shared {@link ClientOptions}, the
 * output streams of the command line that runs them (so tests can capture them), and a
 * clock for "how long ago" columns. Subclasses implement {@link #run()}.
 */
abstract class ClientCommand implements Callable<Integer> {

    @Mixin
    ClientOptions client;

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

    /** Does the command's work and returns its exit code. */
    abstract int run() throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
