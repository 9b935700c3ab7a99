package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's environment and working folder are stored with it and reach its ranks' launches; bad
 * ones are refused with nothing stored. A requeued job whose checkpoints were on a site's shared
 * root goes back to that site rather than to a tighter fit elsewhere, and says so while it waits.
 */
class JobWorkspaceTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        for (String node : List.of("n1", "n2")) {
            engine.call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t-" + node), tx));
        }
        engine.call((s, tx) -> s.enroll("alice", "n3", "s2", "lab-a", Entry.sha256("t-n3"), tx));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private RecordingLink connect(String node, String site, int gpus, String checkpointRoot) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        engine.call((s, tx) -> {
            s.hello(link, node, site, list, List.of(), tx);
            s.checkpointRoot(node, checkpointRoot);
            return null;
        });
        return link;
    }

    private long submit(Map<String, String> env, String chdir) throws Exception {
        return engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "python train.py", 0, "",
                false, false, "", "", "", 0, env, chdir), tx));
    }

    private Job job(long id) throws Exception {
        return engine.call((s, tx) -> s.job(id));
    }

    @Test
    void theEnvironmentAndFolderAreStoredAndSentWithEachLaunch() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1, "");
        long id = submit(Map.of("VIRTUAL_ENV", "/home/ada/venv", "LR", "3e-4"), "/shared/ada/project");

        assertThat(n1.launched).singleElement().satisfies(l -> {
            assertThat(l.userEnv()).containsExactlyInAnyOrderEntriesOf(
                    Map.of("VIRTUAL_ENV", "/home/ada/venv", "LR", "3e-4"));
            assertThat(l.chdir()).isEqualTo("/shared/ada/project");
            // Coop's own variables travel apart, so that the agent can let them win.
            assertThat(l.env()).containsKey("COOP_ACCOUNT").doesNotContainKey("LR");
        });
        engine.restart();
        Job stored = job(id);
        assertThat(stored.env()).containsExactlyEntriesOf(
                new java.util.TreeMap<>(Map.of("LR", "3e-4", "VIRTUAL_ENV", "/home/ada/venv")));
        assertThat(stored.chdir()).isEqualTo("/shared/ada/project");
    }

    @Test
    void aJobWithoutThemRunsInItsRanksOwnFolderWithOnlyCoopsVariables() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1, "");
        submit(Map.of(), "");
        assertThat(n1.launched).singleElement().satisfies(l -> {
            assertThat(l.userEnv()).isEmpty();
            assertThat(l.chdir()).isEmpty();
        });
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        assertRefused(Map.of(), "work/project", "chdir", "must be an absolute path");
        assertRefused(Map.of("1BAD", "x"), "", "env", "must match");
        assertRefused(Map.of("A-B", "x"), "", "env", "must match");
        assertRefused(Map.of("COOP_JOB_ID", "7"), "", "env", "coop's own");
        assertRefused(Map.of("BIG", "x".repeat(JobSpec.MAX_ENV_VALUE_BYTES + 1)), "", "env", "at most 4 KiB");
        Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i < 20; i++) {
            many.put("V" + i, "x".repeat(4000));
        }
        assertRefused(many, "", "env", "at most 64 KiB");
        List<Job> stored = engine.call((s, tx) -> s.jobs(null, null, 100));
        assertThat(stored).isEmpty();
        // At the bounds, accepted.
        Map<String, String> full = new java.util.HashMap<>();
        for (int i = 0; i < 15; i++) {
            full.put("V" + i, "x".repeat(JobSpec.MAX_ENV_VALUE_BYTES));
        }
        long id = submit(full, "/");
        assertThat(job(id).env()).hasSize(15);
    }

    private void assertRefused(Map<String, String> env, String chdir, String field, String rule) {
        assertThatThrownBy(() -> submit(env, chdir)).isInstanceOf(CoopException.class)
                .hasMessageStartingWith(field + ": ").hasMessageContaining(rule);
    }

    @Test
    void aRequeuedJobGoesBackToTheSiteWhoseSharedRootHoldsItsCheckpoints() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1, "/shared/checkpoints");
        long id = submit(Map.of(), "");
        assertThat(job(id).current().checkpointSite()).isEqualTo("s1");
        // n3, of one GPU, is the tightest fit for the job; n2 is at the site of its checkpoints.
        RecordingLink n2 = connect("n2", "s1", 2, "/shared/checkpoints");
        RecordingLink n3 = connect("n3", "s2", 1, "");
        requeue(n1, id);

        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(n2.launched).singleElement().satisfies(l -> assertThat(l.ref()).isEqualTo(new RankRef(id, 2, 0)));
        assertThat(n3.launched).isEmpty();
    }

    @Test
    void withoutASharedRootTheRequeuedJobTakesTheTightestFit() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1, "");
        long id = submit(Map.of(), "");
        assertThat(job(id).current().checkpointSite()).isEmpty();
        RecordingLink n2 = connect("n2", "s1", 2, "/shared/checkpoints");
        RecordingLink n3 = connect("n3", "s2", 1, "");
        requeue(n1, id);

        assertThat(n3.launched).singleElement().satisfies(l -> assertThat(l.ref()).isEqualTo(new RankRef(id, 2, 0)));
        assertThat(n2.launched).isEmpty();
    }

    @Test
    void thePreferenceIsSoftAndTheWaitSaysWhereTheCheckpointsAre() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1, "/shared/checkpoints");
        long id = submit(Map.of(), "");
        // Nothing at s1 is left to take it.
        requeue(n1, id);
        assertThat(job(id).state()).isEqualTo(JobState.PENDING);
        String why = engine.call((s, tx) -> s.whyPending(id));
        assertThat(why).contains("prefers site s1, where its checkpoints are");

        RecordingLink n3 = connect("n3", "s2", 1, "");
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(n3.launched).singleElement().satisfies(l -> assertThat(l.ref()).isEqualTo(new RankRef(id, 2, 0)));
    }

    @Test
    void aJobStoredBeforeTheseFieldsExistedReadsWithoutThem() throws Exception {
        String older = "{\"id\":99,\"name\":\"\",\"account\":\"lab-a\",\"member\":\"alice\",\"gpusPerNode\":1,"
                + "\"nodes\":1,\"gpuModel\":\"\",\"walltimeSeconds\":60,\"command\":\"true\",\"priority\":0,"
                + "\"crossSite\":false,\"state\":\"SUCCEEDED\",\"submittedAt\":1,\"finishedAt\":3,\"attempts\":[{"
                + "\"number\":1,\"startedAt\":2,\"finishedAt\":3,\"placements\":[{\"node\":\"n1\",\"site\":\"s1\","
                + "\"gpuModel\":\"A100\",\"gpuIndices\":[0]}],\"exitCodes\":[0],\"outcome\":\"exited\","
                + "\"borrowed\":false}],\"noPreempt\":false,\"purpose\":\"\",\"arrayId\":0,\"arrayIndex\":0,"
                + "\"endReason\":\"\"}";
        engine.store().putRawForTest(coop.scheduler.store.Store.Kind.JOBS, coop.scheduler.store.Store.key(99),
                older.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Job read = engine.store().get(coop.scheduler.store.Store.Kind.JOBS, coop.scheduler.store.Store.key(99),
                Job.class);
        assertThat(read.env()).isEmpty();
        assertThat(read.chdir()).isEmpty();
        assertThat(read.current().checkpointSite()).isEmpty();
        assertThat(read.current().exitCodes()).containsExactly(0);
    }

    /** As an agent reports a rank its failing node refused to start: the node drains, the attempt is requeued. */
    private void requeue(RecordingLink link, long id) throws Exception {
        engine.call((s, tx) -> {
            s.nodeHealth(link, false, "prolog failed", tx);
            s.exited(link, new RankRef(id, 1, 0), 127, "node-fault", "prolog failed", tx);
            return null;
        });
    }
}
