package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.SchedulerServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the README tells a newcomer holds. The "For node operators" guide starts with commands
 * that run as written after its founding section: the operator's identity is given before the
 * first command that needs one,
 * names a founder's file that {@code coop init} wrote, and {@code coop node enroll} writes the
 * node's identity where the guide's agent lines then read it. The lines are run with
 * {@link CliRun}, their {@code ./} paths in a folder that plays the README's current directory,
 * against a real scheduler on the founded data (on a free port, so {@code --scheduler} is added);
 * {@code export COOP_IDENTITY=FILE} is passed on as {@code --identity FILE}. And what a test
 * needs beyond Java and Maven is named where the requirements are.
 */
class ReadmeTest {
    @TempDir
    Path here;

    @Test
    void theGuidesFirstCommandsRunAsWrittenAndTheAgentFindsTheNodesIdentity() throws Exception {
        List<String> readme = Files.readAllLines(repository().resolve("README.md"));
        List<String> founding = commands(readme, "Founding a cooperative and running the scheduler");
        List<String> operators = commands(readme, "For node operators");

        String init = founding.stream().filter(c -> c.startsWith("./coop init ")).findFirst().orElseThrow();
        CliRun founded = CliRun.of(args(init));
        assertThat(founded.exitCode()).as(init + ": " + founded.err()).isZero();

        String identity = null;
        String enroll = null;
        String agent = null;
        for (String line : operators) {
            if (line.startsWith("export COOP_IDENTITY=")) {
                identity = line.substring("export COOP_IDENTITY=".length());
            } else if (line.startsWith("./coop node enroll ")) {
                enroll = line;
                break;
            } else {
                assertThat(line).as("a line before the guide's enroll").doesNotStartWith("./coop");
            }
        }
        assertThat(enroll).as("the guide enrolls a node").isNotNull();
        assertThat(identity).as("`%s` needs an identity: the guide gives one before it (export COOP_IDENTITY=...)",
                enroll).isNotNull();
        for (String line : operators) {
            if (line.contains("./coop agent --identity") && line.contains("--gpus auto")) {
                agent = line;
                break;
            }
        }
        assertThat(agent).as("the guide starts an agent on the enrolled node").isNotNull();

        List<String> initArgs = Arrays.asList(args(init));
        Path data = Path.of(initArgs.get(initArgs.indexOf("--data") + 1));
        try (SchedulerServer scheduler = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0,
                Duration.ofSeconds(1), Duration.ofSeconds(5)), InstantSource.system())) {
            List<String> call = new ArrayList<>(Arrays.asList(args(enroll)));
            call.addAll(List.of("--identity", local(identity), "--scheduler", "127.0.0.1:" + scheduler.port()));
            CliRun enrolled = CliRun.of(call.toArray(String[]::new));
            assertThat(enrolled.exitCode()).as(enroll + ": " + enrolled.err()).isZero();
        }
        List<String> agentArgs = Arrays.asList(agent.split(" "));
        Path nodeIdentity = Path.of(local(agentArgs.get(agentArgs.indexOf("--identity") + 1)));
        assertThat(NodeIdentity.read(nodeIdentity)).as(agent).extracting(NodeIdentity::node, NodeIdentity::account)
                .containsExactly("gpu-07", "lab-a");
    }

    @Test
    void theRequirementsNameThePackagesTheBrowserTestNeeds() throws Exception {
        String readme = Files.readString(repository().resolve("README.md"));
        int requirements = readme.indexOf("Requirements: ");
        assertThat(requirements).isNotNegative();
        String paragraph = readme.substring(requirements, readme.indexOf("\n\n", requirements));
        assertThat(paragraph).contains("DashboardBrowserIT", "`chromium`", "`chromium-driver`");
    }

    /** A command's words after {@code ./coop}, its {@code ./} paths made paths in {@link #here}. */
    private String[] args(String command) {
        return Arrays.stream(command.split(" ")).skip(1).map(this::local).toArray(String[]::new);
    }

    private String local(String word) {
        return word.startsWith("./") ? here.resolve(word.substring(2)).toString() : word;
    }

    private static Path repository() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
    }

    /**
     * The command lines of the code blocks of section {@code ## heading}, without comments, a line
     * ending in {@code \} joined with the next, and space runs made one.
     */
    static List<String> commands(List<String> readme, String heading) {
        int start = readme.indexOf("## " + heading);
        assertThat(start).as("README.md has a section '## %s'", heading).isNotNegative();
        List<String> out = new ArrayList<>();
        boolean inBlock = false;
        for (int i = start + 1; i < readme.size(); i++) {
            String line = readme.get(i);
            if (!inBlock && line.startsWith("## ")) {
                break;
            }
            if (line.startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            if (!inBlock) {
                continue;
            }
            StringBuilder text = new StringBuilder(line);
            while (text.toString().endsWith("\\") && i + 1 < readme.size()) {
                text.setLength(text.length() - 1);
                text.append(' ').append(readme.get(++i));
            }
            int comment = text.indexOf(" #");
            String command = (comment < 0 ? text.toString() : text.substring(0, comment)).strip().replaceAll("\\s+", " ");
            if (!command.isEmpty() && !command.startsWith("#")) {
                out.add(command);
            }
        }
        return out;
    }
}
