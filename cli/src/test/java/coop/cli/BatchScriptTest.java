package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A batch script as a Slurm user writes one, read as sbatch reads it, and the command that runs it. */
class BatchScriptTest {

    /** A sweep as it would go to sbatch, with the options people carry over from habit. */
    static final String SWEEP = """
            #!/bin/bash
            #SBATCH --job-name=sweep
            #SBATCH -A lab-a
            #SBATCH -t 1-00:00
            #SBATCH --partition=gpu
            #SBATCH --nodes=1
            #SBATCH --gres=gpu:a100:2
            #SBATCH --ntasks-per-node=1 --cpus-per-task 8   # data loaders

            #SBATCH --array=0-9%2
            #SBATCH -o logs/%x-%A_%a.out
            #SBATCH --error "logs/%x-%A_%a.err"
            #SBATCH --dependency=afterok:12
            #SBATCH --mail-type=END,FAIL
            #SBATCH --mail-user=ada@example.org
            #SBATCH --mem=16G
            #SBATCH -p gpu-long
            # SBATCH --exclusive (switched off, as Slurm users do, by the space)
            #COOP --priority 5 --no-preempt
            set -euo pipefail
            #SBATCH --qos=high
            echo "args: $*"
            """;

    @Test
    void readsTheSubsetAsCoopOptionsLineByLine() {
        BatchScript script = BatchScript.parse("job.sh", SWEEP);

        Map<Integer, List<String>> byLine = new HashMap<>();
        script.directives().forEach(d -> byLine.put(d.line(), d.options()));
        assertThat(byLine).containsEntry(2, List.of("--name", "sweep"))
                .containsEntry(3, List.of("--account", "lab-a"))
                .containsEntry(4, List.of("--walltime", "1-00:00"))
                .containsEntry(5, List.of())
                .containsEntry(6, List.of("--nodes", "1"))
                .containsEntry(7, List.of("--gpus", "2", "--gpu-model", "a100"))
                .containsEntry(10, List.of("--array", "0-9%2"))
                .containsEntry(11, List.of("--output", "logs/%x-%A_%a.out"))
                .containsEntry(12, List.of("--error", "logs/%x-%A_%a.err"))
                .containsEntry(13, List.of("--dependency", "afterok:12"))
                .containsEntry(14, List.of("--notify", "END,FAIL"))
                .containsEntry(15, List.of("--notify-to", "ada@example.org"))
                .containsEntry(16, List.of("--mem", "16G"))
                .containsEntry(19, List.of("--priority", "5", "--no-preempt"));
        // Nothing after the first command is a directive, nor is the switched-off "# SBATCH".
        assertThat(byLine).doesNotContainKeys(18, 21);
        assertThat(script.jobGpus()).isNull();
    }

    @Test
    void listsWhatItIgnoresOnceEachNamingTheLine() {
        List<String> warnings = BatchScript.parse("job.sh", SWEEP).warnings();

        assertThat(warnings).containsExactly(
                "job.sh:5: #SBATCH --partition=gpu ignored: coop has no partitions; ask for a GPU model with "
                        + "--gres=gpu:MODEL:N (also line 17)",
                "job.sh:8: #SBATCH --ntasks-per-node=1 ignored: coop runs the script once on each node of the job (no "
                        + "srun needed); start your processes from it",
                "job.sh:8: #SBATCH --cpus-per-task 8 ignored: coop gives a rank the CPUs its node's operator gives "
                        + "per GPU",
                "job.sh:21: #SBATCH --qos=high ignored: it comes after the first command, where sbatch reads no "
                        + "directive either");
    }

    @Test
    void takesEveryFormOfAnOption() {
        BatchScript script = BatchScript.parse("job.sh", """
                #SBATCH -J a -t10 --time 20
                #SBATCH --gres=gpu:4 -N 2-2
                #SBATCH --gpus-per-node=h100:8
                #SBATCH --gres=gpu
                """);

        assertThat(script.directives()).extracting(BatchScript.Directive::options).containsExactly(
                List.of("--name", "a", "--walltime", "10", "--walltime", "20"),
                List.of("--gpus", "4", "--nodes", "2"),
                List.of("--gpus", "8", "--gpu-model", "h100"),
                List.of("--gpus", "1"));
        assertThat(script.warnings()).isEmpty();
    }

    @Test
    void aJobsGpusCountWhenItIsTheLastWord() {
        BatchScript total = BatchScript.parse("job.sh", "#SBATCH --gres=gpu:2\n#SBATCH -G a100:8\n#SBATCH -N 4\n");
        assertThat(total.jobGpus()).isEqualTo(new BatchScript.JobGpus(2, "#SBATCH -G a100:8", 8));
        assertThat(total.directives().get(1).options()).containsExactly("--gpu-model", "a100");

        assertThat(BatchScript.parse("job.sh", "#SBATCH -G 8\n#SBATCH --gpus-per-node=2\n").jobGpus()).isNull();
    }

    @Test
    void refusesAMalformedLineNamingTheFileAndLine() {
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "#!/bin/bash\n#SBATCH -J x\n#SBATCH --gres=gpu:a100:x\n"))
                .isInstanceOf(CliException.class)
                .hasMessage("job.sh:3: #SBATCH --gres=gpu:a100:x: 'gpu:a100:x' is not gpu[:MODEL]:N (for example "
                        + "gpu:a100:2 or gpu:4)");
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "#SBATCH -N 2-4\n"))
                .hasMessage("job.sh:1: #SBATCH -N 2-4: coop places a fixed number of nodes: give one (-N 2), not a "
                        + "range");
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "#SBATCH -t UNLIMITED\n"))
                .hasMessageStartingWith("job.sh:1: #SBATCH -t UNLIMITED: a coop job ends at a walltime");
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "#SBATCH --job-name\n"))
                .hasMessage("job.sh:1: #SBATCH --job-name: --job-name needs a value");
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "\n#SBATCH -J 'unclosed\n"))
                .hasMessage("job.sh:2: #SBATCH -J 'unclosed: unterminated ' quote");
        assertThatThrownBy(() -> BatchScript.parse("job.sh", "#SBATCH train.py\n"))
                .hasMessageStartingWith("job.sh:1: #SBATCH train.py: 'train.py' is not an option");
    }

    @Test
    void aRelativeChdirIsUnderWhereTheScriptIsSubmitted() {
        BatchScript script = BatchScript.parse("job.sh", "#SBATCH -D runs/a\n#SBATCH --chdir=/shared/x\n");
        assertThat(script.directives().get(0).options())
                .containsExactly("--chdir", Path.of("").toAbsolutePath().resolve("runs/a").toString());
        assertThat(script.directives().get(1).options()).containsExactly("--chdir", "/shared/x");
    }

    @Test
    void namesAScriptOnlyWhenItLooksLikeOne(@TempDir Path dir) throws Exception {
        Path shebang = Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\necho hi\n");
        Path directives = Files.writeString(dir.resolve("job"), "# a job\n#SBATCH -J x\npython t.py\n");
        Path plain = Files.writeString(dir.resolve("notes.txt"), "python train.py\n");
        assertThat(BatchScript.names(shebang.toString())).isTrue();
        assertThat(BatchScript.names(directives.toString())).isTrue();
        assertThat(BatchScript.names(plain.toString())).isFalse();
        assertThat(BatchScript.names(dir.toString())).isFalse();
        assertThat(BatchScript.names(dir.resolve("missing.sh").toString())).isFalse();
        assertThat(BatchScript.names("python")).isFalse();
    }

    @Test
    void refusesWhatCannotTravelInACommand(@TempDir Path dir) throws Exception {
        Path big = Files.writeString(dir.resolve("big.sh"), "#!/bin/bash\n" + "#".repeat(70_000) + "\n");
        assertThatThrownBy(() -> BatchScript.read(big, "big.sh")).hasMessage("big.sh: 70013 bytes; a batch script "
                + "travels in the job's command, which is at most 64 KiB (65536 bytes)");
        Path nearly = Files.writeString(dir.resolve("nearly.sh"), "#!/bin/bash\n" + "#".repeat(65_400) + "\n");
        assertThatThrownBy(() -> BatchScript.read(nearly, "nearly.sh").command(List.of(), ""))
                .hasMessageContaining("with its arguments and coop's wrapper").hasMessageContaining("64 KiB");
        Path dos = Files.writeString(dir.resolve("dos.sh"), "#!/bin/bash\r\n#SBATCH -J x\r\n");
        assertThatThrownBy(() -> BatchScript.read(dos, "dos.sh")).hasMessageContaining("DOS line breaks");
        Path binary = Files.write(dir.resolve("a.out"), new byte[] {'#', '!', 0, 1, 2});
        assertThatThrownBy(() -> BatchScript.read(binary, "a.out")).hasMessageContaining("not a text file");
    }

    @Test
    void spansOfArrays() {
        assertThat(BatchScript.arraySpan("0-9")).containsExactly(10, 0, 9);
        assertThat(BatchScript.arraySpan("0-99:10")).containsExactly(10, 0, 90);
        assertThat(BatchScript.arraySpan("1,5,7")).containsExactly(3, 1, 7);
        assertThat(BatchScript.arraySpan("")).isNull();
        assertThat(BatchScript.arraySpan("x")).isNull();
    }

    /**
     * The job's command, run as an agent runs it (bash -c, the rank's folder in
     * COOP_STOP_REASON_FILE, coop's variables set): the script runs with its arguments, under its
     * shebang's interpreter, and finds Slurm's variables.
     */
    @Test
    void theCommandRunsTheScriptWithItsArgumentsAndSlurmsVariables(@TempDir Path dir) throws Exception {
        String script = """
                #!/bin/sh
                #SBATCH -J sweep
                echo "args=$# [$1] [$2]"
                echo "shell=${BASH_VERSION:-sh}"
                echo "job=$SLURM_JOB_ID name=$SLURM_JOB_NAME array=$SLURM_ARRAY_JOB_ID task=$SLURM_ARRAY_TASK_ID"
                echo "count=$SLURM_ARRAY_TASK_COUNT min=$SLURM_ARRAY_TASK_MIN max=$SLURM_ARRAY_TASK_MAX"
                echo "nodes=$SLURM_NNODES node=$SLURM_NODEID proc=$SLURM_PROCID gpus=$SLURM_GPUS_ON_NODE"
                echo "restarts=$SLURM_RESTART_COUNT account=$SLURM_JOB_ACCOUNT submit=$SLURM_SUBMIT_DIR"
                echo "self=$0"
                cat <<'COOP_BATCH_SCRIPT'
                a here-document of its own, ended by the wrapper's word
                COOP_BATCH_SCRIPT
                """;
        String command = BatchScript.parse("job.sh", script).command(List.of("it's", "a b"), "0-9:3");
        Map<String, String> env = Map.of("COOP_STOP_REASON_FILE", dir.resolve("coop-stop-reason").toString(),
                "COOP_JOB_ID", "57", "COOP_JOB_NAME", "sweep", "COOP_ARRAY_JOB_ID", "50", "COOP_ARRAY_INDEX", "6",
                "NNODES", "2", "COOP_RANK", "1", "COOP_GPUS_PER_NODE", "2", "COOP_ATTEMPT", "2",
                "COOP_ACCOUNT", "lab-a");
        List<String> lines = run(command, env, dir);

        assertThat(lines).containsExactly("args=2 [it's] [a b]", "shell=sh",
                "job=57 name=sweep array=50 task=6", "count=4 min=0 max=9",
                "nodes=2 node=1 proc=1 gpus=2", "restarts=1 account=lab-a submit=" + dir,
                "self=" + dir.resolve("coop-script"), "a here-document of its own, ended by the wrapper's word");

        // No shebang: bash, as sbatch; a plain job has no array variables.
        String noShebang = BatchScript.parse("job.sh", "echo \"${BASH_VERSION:+bash} [${SLURM_ARRAY_TASK_ID:-}]\"\n")
                .command(List.of(), "");
        Map<String, String> plain = new HashMap<>(env);
        plain.remove("COOP_ARRAY_JOB_ID");
        plain.remove("COOP_ARRAY_INDEX");
        assertThat(run(noShebang, plain, dir)).containsExactly("bash []");
    }

    private static List<String> run(String command, Map<String, String> env, Path dir) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(dir.toFile())
                .redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().putAll(env);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return new ArrayList<>(out.lines().toList());
    }
}
