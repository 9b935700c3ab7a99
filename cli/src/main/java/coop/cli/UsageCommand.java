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
        description = {"Show each account's voted share next to the share of GPU time it got.",
                "Achieved shares count from when the live policy took effect; running and pending work is shown too."})
final class UsageCommand extends ClientCommand {

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
        Table table = new Table("ACCOUNT", "ENTITLED", "ACHIEVED", "GPU-HOURS", "RUNNING(JOBS/GPUS)", "PENDING");
        for (AccountUsage a : usage.getAccountsList()) {
            table.row(a.getAccount(),
                    ShareArgument.percent(a.getEntitledBasisPoints()) + "%",
                    String.format(Locale.ROOT, "%.1f%%", a.getAchievedPercent()),
                    String.format(Locale.ROOT, "%.1f", a.getGpuSeconds() / 3600.0),
                    a.getRunningJobs() + "/" + a.getRunningGpus(),
                    a.getPendingJobs());
        }
        table.print(out());
        return 0;
    }
}
