package coop.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job's output files ({@code coop submit -o/-e}, Slurm's {@code --output}/{@code --error}): the
 * rank's command is run by bash in a child whose standard output and error are also copied by
 * {@code tee} into them. Opened by the rank itself, after the switch to its user, so a job can write only
 * where its user may; relative paths are under the folder the rank starts in; the rank's own
 * {@code stdout} and {@code stderr} files, which {@code coop logs} reads, still get everything.
 */
final class OutputFiles {

    static final String OUTPUT = "COOP_OUTPUT_FILE";
    static final String ERROR = "COOP_ERROR_FILE";

    private OutputFiles() {
    }

    /**
     * The command that copies its output into {@code output} and its error into {@code error}
     * (either "" for none; an error file alone, or the same file for both, as Slurm: with only an
     * output file, error goes there too). The paths travel in {@code env}, never in the command's
     * text, so no path can be read as shell code.
     */
    static String wrap(String command, String output, String error, Map<String, String> env) {
        String err = error.isEmpty() ? output : error;
        StringBuilder script = new StringBuilder();
        String out = ">&1";
        String errTo = ">&2";
        List<String> tees = new ArrayList<>();
        if (!output.isEmpty()) {
            env.put(OUTPUT, output);
            script.append("exec 3> >(exec tee -a -- \"$" + OUTPUT + "\"); t3=$!\n");
            out = ">&3";
            tees.add("$t3");
        }
        if (!err.isEmpty()) {
            env.put(ERROR, err);
            script.append("exec 4> >(exec tee -a -- \"$" + ERROR + "\" >&2); t4=$!\n");
            errTo = "2>&4";
            tees.add("$t4");
        }
        // The tees are this shell's children and the command runs in a child of its own, so that
        // this shell can wait for the tees to write the last of the command's output before the
        // rank ends. It passes on the signals a job may trap (with --signal B:... only the rank's
        // shell gets them), and the rank's exit status is the command's.
        return script + "(\n" + command + "\n) " + out + " " + errTo + " 3>&- 4>&- &\n"
                + "c=$!\n"
                + "exec 3>&- 4>&-\n"
                + "for s in HUP INT QUIT USR1 USR2 TERM; do trap \"kill -$s $c 2>/dev/null\" $s; done\n"
                + "while :; do wait $c; rc=$?; kill -0 $c 2>/dev/null || break; done\n"
                + "wait " + String.join(" ", tees) + "\n"
                + "exit $rc\n";
    }
}
