package coop.cli;

import coop.v1.AccountShare;
import java.math.BigDecimal;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code ACCOUNT=PERCENT} argument of {@code coop propose shares}, held in basis
 * points (1/100 of a percent) as the wire contract wants, so {@code 33.33} is exactly
 * 3333. Only each share on its own is checked here (a percentage from 0 to 100); whether the
 * shares cover every account and sum to 100 % is the scheduler's decision, and it refuses with
 * INVALID_ARGUMENT.
 *
 * @param account     account name
 * @param basisPoints share in basis points (10000 = 100 %)
 */
public record ShareArgument(String account, int basisPoints) {

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?");
    private static final BigDecimal HUNDRED = BigDecimal.valueOf(100);

    /**
     * Parses {@code lab-a=50} or {@code lab-a=33.33}: a percentage from 0 to 100 with at most
     * two decimals.
     *
     * @throws IllegalArgumentException naming the account and the rule the value breaks
     */
    public static ShareArgument parse(String argument) {
        int eq = argument.indexOf('=');
        String account = eq < 0 ? "" : argument.substring(0, eq).strip();
        String value = eq < 0 ? "" : argument.substring(eq + 1).strip();
        if (account.isEmpty()) {
            throw new IllegalArgumentException("share '" + argument + "' is not ACCOUNT=PERCENT (for example lab-a=50)");
        }
        if (!NUMBER.matcher(value).matches()) {
            throw new IllegalArgumentException("share for " + account + " must be a percentage such as 30 or 33.33, "
                    + "got '" + value + "'");
        }
        BigDecimal percent = new BigDecimal(value);
        if (percent.signum() < 0 || percent.compareTo(HUNDRED) > 0) {
            throw new IllegalArgumentException("share for " + account + " must be between 0 and 100, got " + value);
        }
        BigDecimal basisPoints = percent.movePointRight(2);
        if (basisPoints.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("share for " + account + " may have at most two decimals, got " + value);
        }
        return new ShareArgument(account, basisPoints.intValueExact());
    }

    /** The wire form. */
    public AccountShare toProto() {
        return AccountShare.newBuilder().setAccount(account).setBasisPoints(basisPoints).build();
    }

    /** Basis points as a percentage without needless decimals: 5000 → "50", 3333 → "33.33". */
    public static String percent(int basisPoints) {
        return BigDecimal.valueOf(basisPoints, 2).stripTrailingZeros().toPlainString();
    }

    /** Shares as {@code lab-a=50% lab-b=30%}. */
    public static String describe(List<AccountShare> shares) {
        return shares.stream()
                .map(s -> s.getAccount() + "=" + percent(s.getBasisPoints()) + "%")
                .collect(Collectors.joining(" "));
    }

    @Override
    public String toString() {
        return account + "=" + percent(basisPoints) + "%";
    }

    /** picocli converter: a bad argument becomes a parameter error quoting it. */
    public static final class Converter implements ITypeConverter<ShareArgument> {
        @Override
        public ShareArgument convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
