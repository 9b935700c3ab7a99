package coop.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code coop} command. Client commands talk to a scheduler over gRPC as the member
 * named in the identity file; failures print one {@code error: ...} line (see
 * {@link Errors}). Build the command line with {@link #commandLine()}.
 */
@Command(name = "coop", mixinStandardHelpOptions = true, version = "coop 0.1.0",
        description = "A cooperative GPU scheduler: members vote how GPU time is shared; the scheduler enacts it.",
        subcommands = {
                // Setting up and running the cooperative.
                DemoCommand.class,
                InitCommand.class,
                SchedulerCommand.class,
                BackupCommand.class,
                AgentCommand.class,
                NodeCommand.class,
                SimulateCommand.class,
                BenchCommand.class,

                // Researchers: jobs.
                SubmitCommand.class,
                JobsCommand.class,
                JobCommand.class,
                CancelCommand.class,
                LogsCommand.class,
                // The cluster.
                NodesCommand.class,
                UsageCommand.class,
                // Members: governance.
                ProposeCommand.class,
                VoteCommand.class,
                ProposalsCommand.class,
                PolicyCommand.class,
                ProposalCommand.class,
                DelegateCommand.class,
                ReviewCommand.class,
                PanelCommand.class,
                LedgerCommand.class,
                MemberCommand.class,

                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The full command line: every subcommand, enum values accepted in any case,
     * {@code submit} taking the words after its first positional as the job's command,
     * and {@link Errors} handling failures (stack traces when {@code COOP_DEBUG=1}).
     */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler(Errors.fromEnvironment());
        // `coop submit ... python train.py --lr 3` works without `--`: options end at the command.
        commandLine.getSubcommands().get("submit").setStopAtPositional(true);
        return commandLine;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command");
    }
}
