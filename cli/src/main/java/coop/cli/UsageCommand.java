package coop.cli;

import coop.v1.AccountUsage;
import coop.v1.UsageRequest;
import coop.v1.UsageResponse;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code coop usage}: how GPU time was actually shared since the live policy took
 * effect, next to what each account is entitled to.
 */
@Command(name = "usage", mixinStandardHelpOptions = true,
        description = {"Show each account's voted share next to the share of GPU time it got, and whether the "
                + "votes are kept.",
                "ACHIEVED counts from when the live shares took effect, and starts again when new shares are "
                        + "enacted; the verdicts also judge the trailing hour and day, which do not. " + UsageCommand.RULE,
                "PREEMPTED counts attempts told to stop for another job; LOST GPU-H is their GPU time, each "
                        + "counted whole from its start to its end, since the scheduler cannot know when a job "
                        + "last saved a checkpoint (what the simulator's --checkpoint none counts); MAX/JOB is "
                        + "the most preemptions of any one job."})
final class UsageCommand extends ClientCommand {
    static final String RULE = "Verdict: " + coop.scheduler.domain.ShareVerdict.RULE + ".";

    @Option(names = "--json", description = "Print the usage report as JSON.")
    boolean json;

    @Override
    int run() {
        UsageResponse usage;
        try (Client c = client.connectOptionalIdentity()) {
            usage = c.governance().usage(UsageRequest.getDefaultInstance());
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.usage(usage));
            return 0;
        }
        long windowMs = usage.getWindowEndMs() - usage.getWindowStartMs();
        out().println("policy v" + usage.getPolicyVersion() + " since " + Times.iso(usage.getWindowStartMs())
                + (usage.getWindowStartMs() != 0 && windowMs > 0 ? " (" + Durations.format(Duration.ofMillis(windowMs)) + ")" : "")
                + "; GPUs busy " + usage.getGpusBusy() + "/" + usage.getGpusOnline() + " online");
        Table table = new Table("ACCOUNT", "ENTITLED", "ACHIEVED", "GPU-HOURS", "RUNNING(JOBS/GPUS)", "PENDING",
                "PREEMPTED", "LOST GPU-H", "MAX/JOB");
        for (AccountUsage a : usage.getAccountsList()) {
            table.row(a.getAccount(),
                    ShareArgument.percent(a.getEntitledBasisPoints()) + "%",
                    String.format(Locale.ROOT, "%.1f%%", a.getAchievedPercent()),
                    String.format(Locale.ROOT, "%.1f", a.getGpuSeconds() / 3600.0),
                    a.getRunningJobs() + "/" + a.getRunningGpus(),
                    a.getPendingJobs(),
                    a.getPreemptions(),
                    String.format(Locale.ROOT, "%.1f", a.getPreemptedGpuSeconds() / 3600.0),
                    a.getMaxJobPreemptions());
        }
        table.print(out());
        if (usage.getVerdictsCount() > 0) {
            out().println();
            Table verdicts = new Table("STRETCH", "FROM", "VERDICT", "WORST GAP", "GAP PER ACCOUNT (ACHIEVED-VOTED)");
            for (int i = 0; i < usage.getVerdictsCount(); i++) {
                var v = usage.getVerdicts(i);
                StringBuilder gaps = new StringBuilder();
                for (AccountUsage a : usage.getAccountsList()) {
                    if (i < a.getWindowsCount()) {
                        var w = a.getWindows(i);
                        gaps.append(gaps.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                                "%s %+.1f pp (%s)", a.getAccount(), w.getGapPp(), w.getVerdict()));
                    }
                }
                verdicts.row(v.getStretch(), Times.iso(v.getFromMs()), v.getVerdict(),
                        String.format(Locale.ROOT, "%.1f pp", v.getWorstGapPp()), gaps);
            }
            verdicts.print(out());
            out().println(RULE);
        }
        return 0;
    }
}
