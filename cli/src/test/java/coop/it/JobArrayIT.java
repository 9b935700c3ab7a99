package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetArrayRequest;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.StateCount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job array on the real scheduler and a real agent, as processes on 127.0.0.1: one
 * {@code coop submit --array 0-39} runs every index exactly once, each task seeing its index and
 * its array in the environment; {@code coop jobs --all} shows the array as one line until expanded; and
 * {@code coop cancel ARRAY} stops the unfinished tasks of another array.
 */
class JobArrayIT {
    private static final int TASKS = 40;

    @TempDir
    Path dir;

    @Test
    void everyIndexRunsOnceAndTheArrayListsAsOneLine() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            Path alice = data.resolve("identities/alice.json");
            coop.agent(scheduler.target(), alice, "lab-a", "n1", "north", "sim:4xA100-80GB", dir.resolve("n1"));
            Path ran = Files.createDirectories(dir.resolve("ran"));
            String[] as = {"--scheduler", scheduler.target(), "--identity", alice.toString()};
            try (Client client = new Client(scheduler.target(), Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));

                // Appending: a task that ran twice would leave two lines in its index's file.
                var submit = coop.run(args(as, "submit", "--account", "lab-a", "--gpus", "1", "--name", "sweep",
                        "--array", "0-" + (TASKS - 1), "--",
                        "echo $COOP_ARRAY_JOB_ID $COOP_JOB_ID >> " + ran + "/$COOP_ARRAY_INDEX"));
                assertThat(submit.exitCode()).as(submit.stderr()).isZero();
                Matcher m = Pattern.compile("submitted job array (\\d+) \\(" + TASKS + " tasks, jobs (\\d+)-(\\d+)\\)")
                        .matcher(submit.stdout());
                assertThat(m.find()).as(submit.stdout()).isTrue();
                long array = Long.parseLong(m.group(1));
                long first = Long.parseLong(m.group(2));
                await().atMost(Duration.ofSeconds(60)).until(() -> array(client, array).getFinishedAtMs() != 0);
                assertThat(count(array(client, array), JobState.SUCCEEDED)).isEqualTo(TASKS);

                try (var files = Files.list(ran)) {
                    assertThat(files.map(f -> f.getFileName().toString()).sorted().toList()).hasSize(TASKS)
                            .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(0, TASKS)
                                    .mapToObj(Integer::toString).toList());
                }
                for (int i = 0; i < TASKS; i++) {
                    // Tasks get ids in index order, right after the array's own.
                    assertThat(Files.readAllLines(ran.resolve(Integer.toString(i)))).as("runs of index %d", i)
                            .containsExactly(array + " " + (first + i));
                }

                var jobs = coop.run(args(as, "jobs", "--all"));
                assertThat(jobs.exitCode()).as(jobs.stderr()).isZero();
                List<String> lines = jobs.stdout().lines().skip(1).toList();
                assertThat(lines).as(jobs.stdout()).singleElement().satisfies(line -> assertThat(line)
                        .startsWith(array + "_[0-" + (TASKS - 1) + "]").contains("sweep").contains("ended")
                        .contains(TASKS + " succeeded"));
                var expanded = coop.run(args(as, "jobs", "--all", "--expand"));
                assertThat(expanded.stdout().lines().skip(1).toList()).hasSize(TASKS)
                        .anySatisfy(line -> assertThat(line).startsWith(array + "_7 "));
                var json = coop.run(args(as, "jobs", "--all", "--json"));
                JsonNode listed = new ObjectMapper().readTree(json.stdout());
                assertThat(listed).hasSize(TASKS).allSatisfy(j -> assertThat(j.get("array_id").asLong()).isEqualTo(array));

                var shown = coop.run(args(as, "job", Long.toString(array)));
                assertThat(shown.exitCode()).as(shown.stderr()).isZero();
                assertThat(shown.stdout()).contains("job array " + array + " (sweep)").contains(TASKS + " succeeded");
                var task = coop.run(args(as, "job", array + "_7"));
                assertThat(task.exitCode()).as(task.stderr()).isZero();
                assertThat(task.stdout()).contains("job " + (first + 7) + " (sweep), task " + array + "_7");
                var noSuch = coop.run(args(as, "job", array + "_" + TASKS));
                assertThat(noSuch.exitCode()).isNotZero();
                assertThat(noSuch.stderr()).contains("has no task with index " + TASKS);

                // A second array whose tasks wait for a file that never comes: cancel stops them all.
                var slow = coop.run(args(as, "submit", "--account", "lab-a", "--gpus", "1", "--array", "0-9", "--",
                        "while [ ! -f " + dir.resolve("never") + " ]; do sleep 0.05; done"));
                Matcher s = Pattern.compile("submitted job array (\\d+)").matcher(slow.stdout());
                assertThat(s.find()).as(slow.stdout()).isTrue();
                long slowArray = Long.parseLong(s.group(1));
                await().atMost(Duration.ofSeconds(30)).until(() -> count(array(client, slowArray), JobState.RUNNING) == 4);
                var cancel = coop.run(args(as, "cancel", Long.toString(slowArray)));
                assertThat(cancel.exitCode()).as(cancel.stderr()).isZero();
                assertThat(cancel.stdout()).contains("cancelled job array " + slowArray + ": 10 cancelled");
                assertThat(count(array(client, slowArray), JobState.CANCELLED)).isEqualTo(10);
                var again = coop.run(args(as, "cancel", Long.toString(slowArray)));
                assertThat(again.exitCode()).isNotZero();
                assertThat(again.stderr()).contains("already ended");
            }
        }
    }

    /** The subcommand, then the connection options (before any {@code --}), then the rest. */
    private static String[] args(String[] connection, String... command) {
        List<String> all = new java.util.ArrayList<>(List.of(command[0]));
        all.addAll(List.of(connection));
        all.addAll(List.of(command).subList(1, command.length));
        return all.toArray(String[]::new);
    }

    private static JobArray array(Client client, long id) {
        return client.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(id).build());
    }

    private static int count(JobArray a, JobState state) {
        return a.getCountsList().stream().filter(c -> c.getState() == state).mapToInt(StateCount::getCount).sum();
    }
}
