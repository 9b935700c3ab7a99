package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop submit job.sh}: a batch script's lines become the request, the command line wins
 * over them, a bad line is refused naming it, and {@code --parsable} prints the id alone; against
 * a real gRPC server on 127.0.0.1.
 */
class SubmitScriptTest {

    @TempDir
    Path dir;

    private FakeScheduler scheduler;
    private String identity;

    @BeforeEach
    void start() throws Exception {
        scheduler = new FakeScheduler();
        Path file = dir.resolve("alice.json");
        Identity.generate("alice", "s3cret", scheduler.address()).write(file);
        identity = file.toString();
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.close();
    }

    private CliRun coop(String... args) {
        List<String> all = new ArrayList<>(List.of("submit", "--scheduler", scheduler.address(), "--identity",
                identity));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    private String script(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text).toString();
    }

    @Test
    void theScriptsLinesBecomeTheRequestAndItsArgumentsReachIt() throws Exception {
        String job = script("job.sh", BatchScriptTest.SWEEP);

        CliRun run = coop(job, "--lr", "3e-4");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("submitted job 42" + System.lineSeparator());
        assertThat(run.err().lines()).containsExactly(
                "warning: " + job + ":5: #SBATCH --partition=gpu ignored: coop has no partitions; ask for a GPU "
                        + "model with --gres=gpu:MODEL:N (also line 17)",
                "warning: " + job + ":8: #SBATCH --ntasks-per-node=1 ignored: coop runs the script once on each node "
                        + "of the job (no srun needed); start your processes from it",
                "warning: " + job + ":8: #SBATCH --cpus-per-task 8 ignored: coop gives a rank the CPUs its node's "
                        + "operator gives per GPU",
                "warning: " + job + ":21: #SBATCH --qos=high ignored: it comes after the first command, where sbatch "
                        + "reads no directive either");
        SubmitRequest r = scheduler.last(SubmitRequest.class);
        assertThat(r.getName()).isEqualTo("sweep");
        assertThat(r.getAccount()).isEqualTo("lab-a");
        assertThat(r.getWalltimeSeconds()).isEqualTo(86_400);
        assertThat(r.getGpusPerNode()).isEqualTo(2);
        assertThat(r.getGpuModel()).isEqualTo("a100");
        assertThat(r.getNodes()).isEqualTo(1);
        assertThat(r.getArray()).isEqualTo("0-9");
        assertThat(r.getArrayMaxRunning()).isEqualTo(2);
        assertThat(r.getOutput()).isEqualTo("logs/%x-%A_%a.out");
        assertThat(r.getError()).isEqualTo("logs/%x-%A_%a.err");
        assertThat(r.getDependency()).isEqualTo("afterok:12");
        assertThat(r.getNotify()).isEqualTo("END,FAIL");
        assertThat(r.getNotifyTo()).isEqualTo("ada@example.org");
        assertThat(r.getMemMb()).isEqualTo(16_384);
        assertThat(r.getPriority()).isEqualTo(5);
        assertThat(r.getNoPreempt()).isTrue();
        assertThat(r.getCommand()).contains(BatchScriptTest.SWEEP)
                .contains("SLURM_ARRAY_TASK_COUNT=10 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=9")
                .endsWith("exec \"$d/coop-script\" '--lr' '3e-4'\n");
    }

    @Test
    void theCommandLineWinsOverTheScript() throws Exception {
        String job = script("job.sh", BatchScriptTest.SWEEP);

        CliRun run = coop("-t", "2h", "-J", "other", "--gpus", "1", "--gpu-model", "H100", "--array", "0-3",
                "--mem", "512", "--no-preempt", "-o", "out-%j.txt", "--dependency", "afterany:7:8", "--mail-type",
                "ALL", job);

        assertThat(run.exitCode()).as(run.err()).isZero();
        SubmitRequest r = scheduler.last(SubmitRequest.class);
        assertThat(r.getWalltimeSeconds()).isEqualTo(7_200);
        assertThat(r.getName()).isEqualTo("other");
        assertThat(r.getGpusPerNode()).isEqualTo(1);
        assertThat(r.getGpuModel()).isEqualTo("H100");
        assertThat(r.getArray()).isEqualTo("0-3");
        assertThat(r.getArrayMaxRunning()).isZero();
        assertThat(r.getMemMb()).isEqualTo(512);
        assertThat(r.getOutput()).isEqualTo("out-%j.txt");
        assertThat(r.getDependency()).isEqualTo("afterany:7:8");
        assertThat(r.getNotify()).isEqualTo("ALL");
        // What the command line leaves alone, the script still says.
        assertThat(r.getAccount()).isEqualTo("lab-a");
        assertThat(r.getError()).isEqualTo("logs/%x-%A_%a.err");
        assertThat(r.getPriority()).isEqualTo(5);
    }

    @Test
    void aMalformedLineIsRefusedNamingTheFileAndLineBeforeCallingTheScheduler() throws Exception {
        String job = script("job.sh", "#!/bin/bash\n#SBATCH -A lab-a\n#SBATCH -t 1-xx\n#SBATCH --gres=gpu:1\nhostname\n");
        CliRun time = coop(job);
        assertThat(time.exitCode()).isEqualTo(1);
        assertThat(time.err()).startsWith("error: " + job + ":3: #SBATCH -t 1-xx: '1-xx' is not a duration;");

        for (String[] line : List.of(new String[] {"--mem=16Q", ":2: #SBATCH --mem=16Q: '16Q' is not a size"},
                new String[] {"--dependency=after:5", ":2: #SBATCH --dependency=after:5: unknown dependency type "
                        + "'after' (coop knows afterok, afterany, afternotok and singleton)"},
                new String[] {"--array=0-9%0", ":2: #SBATCH --array=0-9%0: '0-9%0': write INDICES%MAX"},
                new String[] {"-N 0", ":2: #SBATCH -N 0: must be at least 1, got 0"})) {
            String bad = script("bad.sh", "#!/bin/bash\n#SBATCH " + line[0] + "\n#SBATCH -A lab-a --gres=gpu:1\n");
            CliRun run = coop(bad);
            assertThat(run.exitCode()).as(line[0]).isEqualTo(1);
            assertThat(run.err()).as(line[0]).startsWith("error: " + bad + line[1]);
        }
        String unknown = script("coop.sh", "#!/bin/bash\n#COOP --priority high\n");
        assertThat(coop("-A", "lab-a", "--gpus", "1", unknown).err()).startsWith("error: " + unknown
                + ":2: #COOP --priority high: ");
        String cli = script("cli.sh", "#!/bin/bash\n#COOP --parsable\n");
        assertThat(coop("-A", "lab-a", "--gpus", "1", cli).err())
                .startsWith("error: " + cli + ":2: #COOP --parsable: --parsable belongs on the command line");
        assertThat(scheduler.requests).noneMatch(r -> r instanceof SubmitRequest);
    }

    @Test
    void aJobsGpusAreDividedOverItsNodesOrRefused() throws Exception {
        String job = script("job.sh", "#!/bin/bash\n#SBATCH -A lab-a -N 2\n#SBATCH -G a100:8\nhostname\n");
        assertThat(coop(job).exitCode()).isZero();
        SubmitRequest r = scheduler.last(SubmitRequest.class);
        assertThat(r.getGpusPerNode()).isEqualTo(4);
        assertThat(r.getNodes()).isEqualTo(2);
        assertThat(r.getGpuModel()).isEqualTo("a100");

        CliRun three = coop("-N", "3", job);
        assertThat(three.exitCode()).isEqualTo(1);
        assertThat(three.err()).startsWith("error: " + job + ":3: #SBATCH -G a100:8: 8 GPUs do not divide over 3 "
                + "nodes");
        CliRun none = coop(script("none.sh", "#!/bin/bash\n#SBATCH -A lab-a\nhostname\n"));
        assertThat(none.err()).startsWith("error: --gpus: required");
    }

    @Test
    void parsablePrintsTheJobsIdOrTheArraysAlone() throws Exception {
        CliRun plain = coop("-A", "lab-a", "--gpus", "1", "--parsable", "--", "true");
        assertThat(plain.out()).isEqualTo("42" + System.lineSeparator());

        scheduler.submitResponse = SubmitResponse.newBuilder().setJobId(43).setArrayId(41).setArrayTasks(10).build();
        CliRun array = coop("-A", "lab-a", "--gpus", "1", "--array", "0-9%3", "--parsable", "--", "true");
        assertThat(array.out()).isEqualTo("41" + System.lineSeparator());
        assertThat(scheduler.last(SubmitRequest.class).getArray()).isEqualTo("0-9");
        assertThat(scheduler.last(SubmitRequest.class).getArrayMaxRunning()).isEqualTo(3);
        assertThat(coop("-A", "lab-a", "--gpus", "1", "--parsable", "--json", "--", "true").err())
                .contains("--parsable and --json: choose one");
    }

    @Test
    void aFileAfterDoubleDashOrWithoutTheLookOfAScriptIsACommandAsBefore() throws Exception {
        String job = script("job.sh", "#!/bin/bash\n#SBATCH -J from-script\necho hi\n");
        assertThat(coop("-A", "lab-a", "--gpus", "1", "--", job, "x").exitCode()).isZero();
        assertThat(scheduler.last(SubmitRequest.class).getCommand()).isEqualTo(job + " x");
        assertThat(scheduler.last(SubmitRequest.class).getName()).isEmpty();

        String notes = script("notes.txt", "not a script\n");
        assertThat(coop("-A", "lab-a", "--gpus", "1", notes).exitCode()).isZero();
        assertThat(scheduler.last(SubmitRequest.class).getCommand()).isEqualTo(notes);
    }

    @Test
    void slurmsNamesWorkOnTheCommandLine() {
        CliRun run = coop("-A", "lab-a", "--gpus", "2", "-N", "2", "-t", "1-12", "-J", "big", "-D", "/shared/x",
                "-e", "err-%j", "--mail-user", "https://hooks.example.org/coop", "--mem", "1T", "--", "true");
        assertThat(run.exitCode()).as(run.err()).isZero();
        SubmitRequest r = scheduler.last(SubmitRequest.class);
        assertThat(r.getAccount()).isEqualTo("lab-a");
        assertThat(r.getNodes()).isEqualTo(2);
        assertThat(r.getWalltimeSeconds()).isEqualTo(36 * 3600);
        assertThat(r.getName()).isEqualTo("big");
        assertThat(r.getChdir()).isEqualTo("/shared/x");
        assertThat(r.getError()).isEqualTo("err-%j");
        assertThat(r.getNotifyTo()).isEqualTo("https://hooks.example.org/coop");
        assertThat(r.getMemMb()).isEqualTo(1024 * 1024);
        assertThat(r.getCommand()).isEqualTo("true");

        CliRun bareMinutes = coop("-A", "lab-a", "--gpus", "1", "--walltime", "30", "--", "true");
        assertThat(bareMinutes.exitCode()).isZero();
        assertThat(scheduler.last(SubmitRequest.class).getWalltimeSeconds()).isEqualTo(1_800);
    }
}
