package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.util.internal.MacAddressUtil;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command line built for one call ({@link Main#commandLine(String...)}) holds only the
 * subcommand named, and answers exactly as the full one does.
 */
class MainTest {

    @Test
    void aCallNamingASubcommandBuildsThatOneAlone() {
        assertThat(Main.commandLine("submit", "--account", "a", "--gpus", "1", "--", "true").getSubcommands())
                .containsOnlyKeys("submit");
        assertThat(Main.commandLine("node", "enroll").getSubcommands()).containsOnlyKeys("node");
    }

    @Test
    void helpAMistypedNameOrNoNameGetTheFullCommandLine() {
        int all = Main.subcommands().size();
        assertThat(Main.commandLine().getSubcommands()).hasSize(all);
        assertThat(Main.commandLine("--help").getSubcommands()).hasSize(all);
        assertThat(Main.commandLine("help", "submit").getSubcommands()).hasSize(all);
        assertThat(Main.commandLine("sbumit").getSubcommands()).hasSize(all);
        assertThat(Main.commandLine(new String[0]).getSubcommands()).hasSize(all);
    }

    @Test
    void everySubcommandAnswersAloneAsItDoesInTheFullCommandLine() {
        for (Main.Subcommand c : Main.subcommands()) {
            String name = c.name();
            if (name.equals("help")) {
                continue;
            }
            assertThat(Main.named(name)).as(name).contains(c);
            for (String[] args : new String[][] {{name, "--help"}, {name, "--no-such-option"}}) {
                CliRun full = CliRun.of(args);
                CliRun alone = run(Main.commandLine(args), args);
                assertThat(alone).as(String.join(" ", args)).isEqualTo(full);
            }
        }
    }

    @Test
    void everyHelpTextRendersWithoutPicocliWarnings() {
        // A stray '%' in a description makes picocli warn on stderr and print the text unformatted.
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        List<String> rendered = new ArrayList<>();
        try {
            usages(Main.commandLine(), rendered);
        } finally {
            System.setErr(stderr);
        }
        assertThat(rendered).hasSizeGreaterThan(Main.subcommands().size());
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(String.join("", rendered)).contains("percentages (60%)", "--quorum 40% --floor");
    }

    private static void usages(CommandLine commandLine, List<String> rendered) {
        StringWriter usage = new StringWriter();
        commandLine.usage(new PrintWriter(usage));
        rendered.add(usage.toString());
        commandLine.getSubcommands().values().forEach(sub -> usages(sub, rendered));
    }

    @Test
    void shortCallsGiveNettyARandomMachineIdInTheFormItReads() {
        String id = Main.randomMachineId();
        assertThat(id).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
        assertThat(MacAddressUtil.parseMAC(id)).hasSize(8);
        assertThat(Main.randomMachineId()).isNotEqualTo(id);
    }

    @Test
    void submitStillTakesTheWordsAfterItsCommandAsTheCommand() {
        CommandLine alone = Main.commandLine("submit", "--account", "a", "--gpus", "1", "python", "train.py", "--lr", "3");
        CommandLine.ParseResult parsed = alone.parseArgs("submit", "--account", "a", "--gpus", "1", "python", "train.py",
                "--lr", "3");
        assertThat(parsed.subcommand().matchedPositional(0).<java.util.List<String>>getValue())
                .containsExactly("python", "train.py", "--lr", "3");
    }

    private static CliRun run(CommandLine commandLine, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new CliRun(exitCode, out.toString(), err.toString());
    }
}
