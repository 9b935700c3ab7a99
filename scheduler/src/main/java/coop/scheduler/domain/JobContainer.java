package coop.scheduler.domain;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The container image a job's ranks run in ({@code coop submit --container}), and the host folders
 * mounted into it ({@code --mount SRC:DST[:ro]}). {@link #NONE} for a job that runs on the node
 * itself. The node's operator decides whether a node runs containers at all and under which host
 * folders a job may mount its own; the scheduler places a job only where both hold.
 */
public record JobContainer(String image, List<Mount> mounts) {

    /** No container: the ranks run on the node itself. */
    public static final JobContainer NONE = new JobContainer("", List.of());

    /**
     * What an image reference must match: a registry host with an optional port, path parts and a
     * tag or digest, in the characters OCI references use. No shell metacharacter, space or
     * leading dash gets through, so the reference is one argument whatever runs it.
     */
    public static final String IMAGE = "[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}";
    /** Most host folders one job mounts. */
    public static final int MAX_MOUNTS = 16;
    /** Longest path of a mount, in UTF-8 bytes. */
    public static final int MAX_PATH_BYTES = 1024;
    /** Folders inside a container that a job's mount may not cover: the container's own. */
    private static final List<String> RESERVED = List.of("/proc", "/sys", "/dev");

    /** A host folder mounted into the container, read-only or read-write. */
    public record Mount(String source, String destination, boolean readOnly) {
        /** As {@code --mount} takes it: {@code SRC:DST[:ro]} ({@code :rw} says read-write, the default). */
        @Override
        public String toString() {
            return source + ":" + destination + (readOnly ? ":ro" : "");
        }
    }

    public JobContainer {
        image = image == null ? "" : image;
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
    }

    /** Whether the job runs in a container. */
    public boolean present() {
        return !image.isEmpty();
    }

    /**
     * The container request if each part meets its rule, else INVALID_ARGUMENT naming the field:
     * the image a plain reference, mounts only with an image, each path absolute, normalised
     * (no {@code .} or {@code ..} part), without {@code :} or {@code ,} (the runtime's own
     * separators) or control characters, no destination twice, none over {@code /} or the
     * container's {@code /proc}, {@code /sys} and {@code /dev}.
     */
    public static JobContainer checked(String image, List<Mount> mounts) {
        String img = image == null ? "" : image;
        List<Mount> list = mounts == null ? List.of() : mounts;
        if (img.isEmpty()) {
            if (!list.isEmpty()) {
                throw CoopException.invalid("mounts", "need a container (--container IMAGE): a job's mounts go into its container");
            }
            return NONE;
        }
        if (!img.matches(IMAGE) || img.contains("//") || img.contains("..")) {
            throw CoopException.invalid("container", "'" + JobSpec.abbreviated(img) + "' must be an image reference "
                    + "matching " + IMAGE + " (letters, digits and ._-/:@; no spaces or shell characters)");
        }
        if (list.size() > MAX_MOUNTS) {
            throw CoopException.invalid("mounts", "at most " + MAX_MOUNTS + ", got " + list.size());
        }
        Set<String> destinations = new HashSet<>();
        for (Mount m : list) {
            checkedPath("source", m.source());
            checkedPath("destination", m.destination());
            if (m.destination().equals("/") || RESERVED.stream().anyMatch(r -> within(m.destination(), r))) {
                throw CoopException.invalid("mounts", "destination " + m.destination()
                        + " must not be / or under /proc, /sys or /dev, which are the container's own");
            }
            if (!destinations.add(m.destination())) {
                throw CoopException.invalid("mounts", "destination " + m.destination() + " is given twice");
            }
        }
        return new JobContainer(img, list);
    }

    private static void checkedPath(String part, String path) {
        if (path == null || !path.startsWith("/")) {
            throw CoopException.invalid("mounts", part + " '" + JobSpec.abbreviated(path) + "' must be an absolute path");
        }
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES
                || path.chars().anyMatch(c -> Character.isISOControl(c) || c == ':' || c == ',')) {
            throw CoopException.invalid("mounts", part + " '" + JobSpec.abbreviated(path) + "' must be at most "
                    + MAX_PATH_BYTES + " bytes without ':', ',' or control characters");
        }
        for (String name : path.substring(1).split("/", -1)) {
            if ((name.isEmpty() && path.length() > 1) || name.equals(".") || name.equals("..")) {
                throw CoopException.invalid("mounts", part + " '" + JobSpec.abbreviated(path)
                        + "' must be a plain path: no empty, '.' or '..' parts, no trailing /");
            }
        }
    }

    /** Whether {@code path} is {@code folder} or below it, by whole names. */
    public static boolean within(String path, String folder) {
        if (folder.equals("/")) {
            return true;
        }
        return path.equals(folder) || path.startsWith(folder + "/");
    }

    /** The host folders its mounts need the node to allow. */
    public List<String> sources() {
        return mounts.stream().map(Mount::source).toList();
    }
}
