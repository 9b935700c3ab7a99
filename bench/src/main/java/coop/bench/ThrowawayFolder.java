package coop.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine.Option;

/**
 * The temporary folder a bench runs its throwaway cooperative in (data, and the scheduler's
 * logs where it runs as a process): deleted at the end, unless the bench keeps it to be looked
 * at. A bench that offers that takes {@code --keep} from here as a {@code @Mixin}.
 */
final class ThrowawayFolder {
    @Option(names = "--keep", description = "Keep the temporary data folder, and the scheduler's logs in it if "
            + "any, rather than delete it.")
    boolean keep;

    /**
     * Deletes {@code folder}, or, with {@code --keep} or where {@code keepAnyway} (after a
     * failure, or a folder the user named), says on stderr where it is: "{@code what} kept in
     * {@code folder}".
     */
    void cleanUp(Path folder, boolean keepAnyway, String what) {
        if (keep || keepAnyway) {
            System.err.println(what + " kept in " + folder);
        } else {
            delete(folder);
        }
    }

    /** Deletes a throwaway folder and what is in it; says so on stderr if it cannot. */
    static void delete(Path folder) {
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not delete " + folder + ": " + e.getMessage());
        }
    }
}
