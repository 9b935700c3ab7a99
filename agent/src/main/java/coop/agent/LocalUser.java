package coop.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A local account a rank runs as: its name, numeric ids and home folder, as the host's user
 * database ({@code getent passwd}, so LDAP and sssd users count too) gives them.
 */
public record LocalUser(String name, int uid, int gid, String home) {

    public LocalUser {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(home, "home");
    }

    /** Whether this is the superuser. */
    public boolean isRoot() {
        return uid == 0;
    }

    /** The user this JVM runs as. */
    public static LocalUser current() {
        String name = System.getProperty("user.name");
        return lookup(name).orElseGet(() -> new LocalUser(name, uidOfThisProcess(), gidOfThisProcess(),
                System.getProperty("user.home")));
    }

    /** The local user of that name, if the host has one. */
    public static Optional<LocalUser> lookup(String name) {
        if (name == null || name.isEmpty() || name.contains(":") || name.contains("\n")) {
            return Optional.empty();
        }
        try {
            Process getent = new ProcessBuilder("getent", "passwd", name)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            String line = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!getent.waitFor(10, TimeUnit.SECONDS) || getent.exitValue() != 0 || line.isEmpty()) {
                return Optional.empty();
            }
            // name:password:uid:gid:gecos:home:shell
            String[] f = line.split(":", -1);
            if (f.length < 7 || !f[0].equals(name)) {
                return Optional.empty();
            }
            return Optional.of(new LocalUser(name, Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5]));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static int uidOfThisProcess() {
        return statusId("Uid:");
    }

    private static int gidOfThisProcess() {
        return statusId("Gid:");
    }

    /** The real id from {@code /proc/self/status}; -1 where there is none (not Linux). */
    private static int statusId(String field) {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Integer.parseInt(line.substring(field.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Fall through.
        }
        return -1;
    }
}
