package coop.cli;

import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code coop propose shares lab-a=50 lab-b=30 uni-c=20}: proposes every account's
 * share at once. Percentages travel as basis points; the scheduler checks that they
 * cover every open account, respect the floors and sum to 100.
 */
@Command(name = "shares", mixinStandardHelpOptions = true,
        description = {"Propose every account's share of GPU time at once (ordinary majority).",
                "Percentages may have two decimals (33.33) and must sum to 100.",
                "Example: coop propose shares lab-a=50 lab-b=30 uni-c=20 --closes-in 2m"})
final class ProposeSharesCommand extends ProposeKindCommand {

    // Taken as text and parsed in change(): picocli tries a converter on each value past the
    // first to decide whether it still belongs to the list, so a bad later share would surface
    // as "Unmatched argument" instead of its own error.
    @Parameters(arity = "1..*", paramLabel = "ACCOUNT=PERCENT", description = "An account and its share in percent.")
    List<String> shares;

    @Override
    void change(ProposeRequest.Builder request) {
        SharesChange.Builder change = SharesChange.newBuilder();
        for (String share : shares) {
            try {
                change.addShares(ShareArgument.parse(share).toProto());
            } catch (IllegalArgumentException e) {
                // A parameter error, as picocli's own: the message, the usage, exit code 2.
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        request.setShares(change);
    }
}
