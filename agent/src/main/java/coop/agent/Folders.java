package coop.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Owners and modes of the folders and files a rank gets, set by the agent before the rank starts. */
final class Folders {

    private Folders() {
    }

    /** Sets the folder's mode ({@code rwx------}) and, for a uid of 0 or more, its owner. */
    static void restrict(Path folder, String mode, int uid, int gid) throws IOException {
        if (uid >= 0) {
            Files.setAttribute(folder, "unix:uid", uid);
            Files.setAttribute(folder, "unix:gid", gid);
        }
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString(mode));
    }

    /** Creates the file if it is not there, owned by the user and readable by nobody else. */
    static void ownedFile(Path file, int uid, int gid) throws IOException {
        Files.newByteChannel(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
        Files.setAttribute(file, "unix:uid", uid);
        Files.setAttribute(file, "unix:gid", gid);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
