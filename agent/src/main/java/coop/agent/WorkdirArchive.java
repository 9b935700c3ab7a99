package coop.agent;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * The packed form of a working folder shipped with a job ({@code coop submit --workdir}): a POSIX
 * ustar archive, gzip-compressed by the caller, with regular files and folders only. The writer
 * makes the same bytes from the same folder on any machine (entries in the caller's order, modes
 * 0644 or 0755, owner 0, time 0), so that identical folders have one digest and are stored once.
 * The reader takes nothing but what the writer makes: an absolute name, a {@code ..} part, a link
 * or a device is refused before anything is written for it, so an archive cannot reach outside the
 * folder it is unpacked into.
 */
public final class WorkdirArchive {
    private static final int BLOCK = 512;

    private WorkdirArchive() {
    }

    /** An archive in the making; entries go in the order written, so the caller sorts them. */
    public static final class Writer implements AutoCloseable {
        private final OutputStream out;
        private final byte[] buffer = new byte[64 * 1024];

        public Writer(OutputStream out) {
            this.out = out;
        }

        /** A folder, by its path relative to the root with '/' between parts. */
        public void folder(String path) throws IOException {
            out.write(header(path + "/", '5', 0755, 0));
        }

        /** A file of {@code size} bytes read from {@code in}; executable keeps the owner's x bit as 0755. */
        public void file(String path, boolean executable, long size, InputStream in) throws IOException {
            out.write(header(path, '0', executable ? 0755 : 0644, size));
            long left = size;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException(path + " shrank while it was being packed");
                }
                out.write(buffer, 0, n);
                left -= n;
            }
            int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
            out.write(new byte[pad]);
        }

        /** Ends the archive (two empty blocks); the stream is left to the caller. */
        @Override
        public void close() throws IOException {
            out.write(new byte[2 * BLOCK]);
            out.flush();
        }

        private static byte[] header(String path, char type, int mode, long size) throws IOException {
            byte[] h = new byte[BLOCK];
            byte[] name = path.getBytes(StandardCharsets.UTF_8);
            byte[] prefix = new byte[0];
            if (name.length > 100) {
                // ustar splits a long path at a '/' into a prefix of up to 155 bytes and a name of up to 100.
                int cut = -1;
                for (int i = Math.min(name.length - 1, 155); i > 0; i--) {
                    if (name[i] == '/' && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
                        cut = i;
                        break;
                    }
                }
                if (cut < 0) {
                    throw new IOException(path + ": paths longer than tar's 255 bytes are not packed");
                }
                prefix = Arrays.copyOfRange(name, 0, cut);
                name = Arrays.copyOfRange(name, cut + 1, name.length);
            }
            System.arraycopy(name, 0, h, 0, name.length);
            octal(h, 100, 8, mode);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, size);
            octal(h, 136, 12, 0);
            h[156] = (byte) type;
            System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
            System.arraycopy(prefix, 0, h, 345, prefix.length);
            Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            octal(h, 148, 7, sum);
            h[154] = 0;
            return h;
        }

        private static void octal(byte[] h, int at, int width, long value) {
            String digits = Long.toOctalString(value);
            if (digits.length() > width - 1) {
                throw new IllegalArgumentException("value " + value + " does not fit tar's field");
            }
            String padded = "0".repeat(width - 1 - digits.length()) + digits;
            System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, at, width - 1);
        }
    }

    /** What an unpack wrote. */
    public record Unpacked(int files, int folders, long bytes) {
    }

    /**
     * Unpacks an (uncompressed) archive into {@code into}, which it creates; each file and folder
     * is given to {@code owner} when it is not null (the rank's user, where that is not the agent's).
     *
     * @throws IOException naming the entry, for anything the writer would not have made
     */
    public static Unpacked unpack(InputStream tar, Path into, LocalUser owner) throws IOException {
        Files.createDirectories(into);
        Path root = into.toAbsolutePath().normalize();
        byte[] h = new byte[BLOCK];
        byte[] buffer = new byte[64 * 1024];
        int files = 0;
        int folders = 0;
        long bytes = 0;
        while (true) {
            if (!readFully(tar, h)) {
                throw new IOException("the archive ends without its end marker");
            }
            if (isZero(h)) {
                return new Unpacked(files, folders, bytes);
            }
            long sum = 0;
            for (int i = 0; i < BLOCK; i++) {
                sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
            }
            if (sum != parseOctal(h, 148, 8, "checksum")) {
                throw new IOException("the archive is damaged: an entry's checksum does not add up");
            }
            String name = text(h, 0, 100);
            String prefix = text(h, 345, 155);
            String path = prefix.isEmpty() ? name : prefix + "/" + name;
            char type = (char) h[156];
            long size = parseOctal(h, 124, 12, "size");
            int mode = (int) parseOctal(h, 100, 8, "mode");
            if (size < 0) {
                throw new IOException("the archive is damaged: entry " + path + " has a negative size");
            }
            Path target = inside(root, path);
            if (type == '5') {
                Files.createDirectories(target);
                own(target, "rwxr-xr-x", owner);
                folders++;
                continue;
            }
            if (type != '0' && type != '\0') {
                throw new IOException("entry " + path + " is a link or special file (type '" + type
                        + "'): only files and folders are unpacked");
            }
            Files.createDirectories(target.getParent());
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                long left = size;
                while (left > 0) {
                    int n = tar.read(buffer, 0, (int) Math.min(buffer.length, left));
                    if (n < 0) {
                        throw new EOFException("the archive ends inside " + path);
                    }
                    out.write(buffer, 0, n);
                    left -= n;
                }
            } catch (FileAlreadyExistsException e) {
                throw new IOException("entry " + path + " appears twice in the archive");
            }
            long pad = (BLOCK - size % BLOCK) % BLOCK;
            tar.skipNBytes(pad);
            own(target, (mode & 0100) != 0 ? "rwxr-xr-x" : "rw-r--r--", owner);
            files++;
            bytes += size;
        }
    }

    /** The entry's place under root, refused when its name could lead anywhere else. */
    private static Path inside(Path root, String path) throws IOException {
        String bare = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        if (bare.isEmpty() || bare.startsWith("/") || bare.indexOf('\0') >= 0) {
            throw new IOException("entry '" + path + "' is not a relative path: refused");
        }
        for (String part : bare.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IOException("entry '" + path + "' has an empty, '.' or '..' part: refused");
            }
        }
        Path target = root.resolve(bare).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
            throw new IOException("entry '" + path + "' leads outside the folder: refused");
        }
        return target;
    }

    private static void own(Path p, String mode, LocalUser owner) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        if (owner != null) {
            Files.setAttribute(p, "unix:uid", owner.uid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", owner.gid(), LinkOption.NOFOLLOW_LINKS);
        }
    }

    private static boolean readFully(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, block.length);
        return n == block.length;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static String text(byte[] h, int at, int width) {
        int end = at;
        while (end < at + width && h[end] != 0) {
            end++;
        }
        return new String(h, at, end - at, StandardCharsets.UTF_8);
    }

    private static long parseOctal(byte[] h, int at, int width, String field) throws IOException {
        String s = text(h, at, width).trim();
        try {
            return s.isEmpty() ? 0 : Long.parseLong(s, 8);
        } catch (NumberFormatException e) {
            throw new IOException("the archive is damaged: an entry's " + field + " is not a number");
        }
    }
}
