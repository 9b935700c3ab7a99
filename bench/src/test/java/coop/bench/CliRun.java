package coop.bench;

import java.io.PrintWriter;
import java.io.StringWriter;
import coop.cli.Main;
import picocli.CommandLine;

/** One run of the real {@code coop} command line, the lab's commands included, with captured output. */
record CliRun(int exitCode, String out, String err) {

    static CliRun of(String... args) {
        CommandLine commandLine = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new CliRun(exitCode, out.toString(), err.toString());
    }
}
