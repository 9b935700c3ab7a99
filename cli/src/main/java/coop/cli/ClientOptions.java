package coop.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Options shared by every client command: which scheduler to call and who is calling. The
 * scheduler is taken from {@code --scheduler}, else {@code $COOP_SCHEDULER}, else the identity
 * file, else {@value #DEFAULT_SCHEDULER}. The identity file is {@code --identity}, else
 * {@code $COOP_IDENTITY}. There is no way to act as another member than the identity file's.
 *
 * <p>A command gets them as the mixin {@value #MIXIN} ({@link #mixin()}), built with picocli's
 * programmatic model rather than read from annotations, so that a command that builds its whole
 * model that way ({@link SubmitCommand}) never starts picocli's annotation reading.
 */
public final class ClientOptions {

    /** Where a scheduler listens when nothing else says otherwise. */
    public static final String DEFAULT_SCHEDULER = "127.0.0.1:7070";

    /** The name the options are mixed in under. */
    static final String MIXIN = "client";

    static final String NO_IDENTITY = "no identity: pass --identity FILE or set COOP_IDENTITY";

    private final OptionSpec scheduler = OptionSpec.builder("--scheduler")
            .paramLabel("HOST:PORT").type(String.class).defaultValue("${env:COOP_SCHEDULER}")
            .description("Scheduler to call (default: $COOP_SCHEDULER, else the identity file's, else "
                    + DEFAULT_SCHEDULER + ").")
            .build();

    private final OptionSpec identityFile = OptionSpec.builder("--identity")
            .paramLabel("FILE").type(Path.class).defaultValue("${env:COOP_IDENTITY}")
            .description("Identity file written by coop init (default: $COOP_IDENTITY).")
            .build();

    /** These options as a mixin for a command's model; they hold the values parsed. */
    CommandSpec mixin() {
        return CommandSpec.wrapWithoutInspection(this).addOption(scheduler).addOption(identityFile);
    }

    /** The target of the last connection opened, so errors can name it. */
    private String connectedTarget;

    /** The identity file's contents, if a file was named. */
    public Optional<Identity> identity() {
        Path file = identityFile.getValue();
        return file == null ? Optional.empty() : Optional.of(Identity.read(file));
    }

    /** The identity file named by {@code --identity} or {@code $COOP_IDENTITY}, if any. */
    public Optional<Path> identityFile() {
        return Optional.ofNullable(identityFile.getValue());
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
        connectedTarget = resolveScheduler(scheduler.getValue(), identity);
        Client client = Client.forOneCommand(connectedTarget, identity);
        Path file = identityFile.getValue();
        if (identity != null && file != null) {
            client.keepReceiptsIn(ReceiptFiles.folder(file, identity.member()));
        }
        return client;
    }

    /**
     * The scheduler this command calls (or would call), for messages: the one connected
     * to, else the one resolved now. Never fails; an unusable value is returned as given.
     */
    public String schedulerTarget() {
        if (connectedTarget != null) {
            return connectedTarget;
        }
        String explicit = scheduler.getValue();
        try {
            return resolveScheduler(explicit, identity().orElse(null));
        } catch (RuntimeException unreadableIdentityOrBadAddress) {
            return explicit != null && !explicit.isBlank() ? explicit.strip() : DEFAULT_SCHEDULER;
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
