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
    void everyCommandsSummaryInTheHelpIsAWholeSentence() {
        // A summary is the first line of a command's description: one cut mid-sentence reads as a fragment in
        // the list that coop --help (and coop node --help, ...) prints.
        List<String> cut = new ArrayList<>();
        summaries(Main.commandLine(), "coop", cut);
        assertThat(cut).isEmpty();
    }

    /** Adds to {@code cut} each command listed in {@code commandLine}'s help whose summary does not end a sentence. */
    private static void summaries(CommandLine commandLine, String path, List<String> cut) {
        StringWriter usage = new StringWriter();
        commandLine.usage(new PrintWriter(usage));
        String text = usage.toString();
        int list = text.indexOf("\nCommands:\n");
        if (list >= 0) {
            // Each entry starts "  NAME  SUMMARY"; a long summary wraps onto lines that start with spaces only.
            java.util.Map<String, StringBuilder> entries = new java.util.LinkedHashMap<>();
            StringBuilder current = null;
            for (String line : text.substring(list + "\nCommands:\n".length()).split("\n")) {
                java.util.regex.Matcher entry = java.util.regex.Pattern.compile("^  (\\S+)\\s+(.*)$").matcher(line);
                if (entry.matches()) {
                    current = new StringBuilder(entry.group(2).strip());
                    entries.put(entry.group(1).replace(",", ""), current);
                } else if (current != null && line.startsWith("   ")) {
                    current.append(' ').append(line.strip());
                } else {
                    break;
                }
            }
            assertThat(entries).as(path + " --help lists its commands").isNotEmpty();
            entries.forEach((name, summary) -> {
                if (!name.equals("help") && !summary.toString().endsWith(".")) {
                    cut.add(path + " " + name + ": " + summary);
                }
            });
        }
        commandLine.getSubcommands().forEach((name, sub) -> summaries(sub, path + " " + name, cut));
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
