package coop.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Options shared by every client command ({@code @Mixin}): which scheduler to call and
 * who is calling. The scheduler is taken from {@code --scheduler}, else
 * {@code $COOP_SCHEDULER}, else the identity file, else {@value #DEFAULT_SCHEDULER}.
 * The identity file is {@code --identity}, else {@code $COOP_IDENTITY}. There is no way
 * to act as another member than the identity file's.
 */
public final class ClientOptions {

    /** Where a scheduler listens when nothing else says otherwise. */
    public static final String DEFAULT_SCHEDULER = "127.0.0.1:7070";

    static final String NO_IDENTITY = "no identity: pass --identity FILE or set COOP_IDENTITY";

    @Option(names = "--scheduler", paramLabel = "HOST:PORT", defaultValue = "${env:COOP_SCHEDULER}",
            description = "Scheduler to call (default: $COOP_SCHEDULER, else the identity file's, else "
                    + DEFAULT_SCHEDULER + ").")
    String scheduler;

    @Option(names = "--identity", paramLabel = "FILE", defaultValue = "${env:COOP_IDENTITY}",
            description = "Identity file written by coop init (default: $COOP_IDENTITY).")
    Path identityFile;

    /** The target of the last connection opened, so errors can name it. */
    private String connectedTarget;

    /** The identity file's contents, if a file was named. */
    public Optional<Identity> identity() {
        return identityFile == null ? Optional.empty() : Optional.of(Identity.read(identityFile));
    }

    /** The identity, or a {@link CliException} telling the user how to give one. */
    public Identity requireIdentity() {
        return identity().orElseThrow(() -> new CliException(NO_IDENTITY));
    }

    /** Opens a client that identifies the caller; fails when there is no identity. */
    public Client connect() {
        return open(requireIdentity());
    }

    /** Opens a client that identifies the caller if an identity is given, else anonymously. */
    public Client connectOptionalIdentity() {
        return open(identity().orElse(null));
    }

    private Client open(Identity identity) {
        connectedTarget = resolveScheduler(scheduler, identity);
        return Client.forOneCommand(connectedTarget, identity);
    }

    /**
     * The scheduler this command calls (or would call), for messages: the one connected
     * to, else the one resolved now. Never fails; an unusable value is returned as given.
     */
    public String schedulerTarget() {
        if (connectedTarget != null) {
            return connectedTarget;
        }
        try {
            return resolveScheduler(scheduler, identity().orElse(null));
        } catch (RuntimeException unreadableIdentityOrBadAddress) {
            return scheduler != null && !scheduler.isBlank() ? scheduler.strip() : DEFAULT_SCHEDULER;
        }
    }

    /**
     * Applies the precedence rule: explicit value (flag or environment), then the
     * identity file's scheduler, then {@value #DEFAULT_SCHEDULER}.
     *
     * @throws CliException when the chosen value is not {@code HOST:PORT}
     */
    static String resolveScheduler(String explicit, Identity identity) {
        String chosen;
        if (explicit != null && !explicit.isBlank()) {
            chosen = explicit.strip();
        } else if (identity != null && identity.scheduler() != null) {
            chosen = identity.scheduler().strip();
        } else {
            chosen = DEFAULT_SCHEDULER;
        }
        int colon = chosen.lastIndexOf(':');
        if (colon <= 0 || colon == chosen.length() - 1 || !chosen.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            throw new CliException("scheduler address '" + chosen + "' is not HOST:PORT");
        }
        return chosen;
    }
}
