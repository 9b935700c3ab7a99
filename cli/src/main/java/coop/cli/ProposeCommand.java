package coop.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code coop propose KIND ...}: opens a signed proposal. Each kind of proposal is a
 * subcommand.
 */
@Command(name = "propose", mixinStandardHelpOptions = true,
        description = "Open a proposal for the members to vote on; a passed proposal becomes the live policy.",
        subcommands = {
                ProposeSharesCommand.class,
                ProposeKinds.Budget.class,
                ProposeKinds.Param.class,
                ProposeKinds.Admit.class,
                ProposeKinds.Remove.class,
                ProposeKinds.Account.class,
                ProposeKinds.Amend.class,
        })
final class ProposeCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing the kind of proposal (for example: shares)");
    }
}
