package coop.cli;

import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import java.util.List;
import picocli.CommandLine.Command;
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

    @Parameters(arity = "1..*", paramLabel = "ACCOUNT=PERCENT", converter = ShareArgument.Converter.class,
            description = "An account and its share in percent.")
    List<ShareArgument> shares;

    @Override
    void change(ProposeRequest.Builder request) {
        SharesChange.Builder change = SharesChange.newBuilder();
        shares.forEach(s -> change.addShares(s.toProto()));
        request.setShares(change);
    }
}
