package coop.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code coop submit --workdir} leaves out of a folder, written as a {@code .gitignore} is:
 * one pattern a line, {@code #} comments and blank lines skipped; {@code *} and {@code ?} match
 * within one part of a path, {@code **} across parts, {@code [...]} a class; a pattern with a
 * {@code /} before its end is anchored at the folder's top, one without matches at any depth; a
 * trailing {@code /} matches only folders; a leading {@code !} takes back an earlier exclusion. The
 * last pattern that matches decides, and what is in an excluded folder stays out whatever follows,
 * as with git. Only the top-level file is read: {@code .coopignore} when there is one, else
 * {@code .gitignore}.
 */
final class IgnoreRules {
    /** The files read, in order of preference. */
    static final List<String> FILES = List.of(".coopignore", ".gitignore");

    private record Rule(Pattern pattern, boolean negated, boolean foldersOnly) {
    }

    private final List<Rule> rules;

    private IgnoreRules(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** The rules of {@code root}'s {@code .coopignore}, else its {@code .gitignore}, else none. */
    static IgnoreRules of(Path root) {
        for (String name : FILES) {
            Path file = root.resolve(name);
            if (Files.isRegularFile(file)) {
                try {
                    return parse(Files.readAllLines(file, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file, e);
                }
            }
        }
        return parse(List.of());
    }

    static IgnoreRules parse(List<String> lines) {
        List<Rule> rules = new ArrayList<>();
        for (String raw : lines) {
            String line = trimTrailingSpaces(raw);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            boolean negated = line.startsWith("!");
            if (negated) {
                line = line.substring(1);
            } else if (line.startsWith("\\#") || line.startsWith("\\!")) {
                line = line.substring(1);
            }
            boolean foldersOnly = line.endsWith("/");
            if (foldersOnly) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isEmpty()) {
                continue;
            }
            boolean anchored = line.contains("/");
            if (line.startsWith("/")) {
                line = line.substring(1);
            }
            String regex = (anchored ? "" : "(?:.*/)?") + regex(line);
            rules.add(new Rule(Pattern.compile(regex), negated, foldersOnly));
        }
        return new IgnoreRules(rules);
    }

    /** Whether the path (relative to the folder's top, parts joined by '/') is left out. */
    boolean ignored(String path, boolean folder) {
        boolean ignored = false;
        for (Rule r : rules) {
            if (r.foldersOnly() && !folder) {
                continue;
            }
            if (r.pattern().matcher(path).matches()) {
                ignored = !r.negated();
            }
        }
        return ignored;
    }

    private static String trimTrailingSpaces(String line) {
        int end = line.length();
        while (end > 0 && line.charAt(end - 1) == ' ' && !(end > 1 && line.charAt(end - 2) == '\\')) {
            end--;
        }
        return line.substring(0, end);
    }

    private static String regex(String glob) {
        StringBuilder out = new StringBuilder();
        int n = glob.length();
        for (int i = 0; i < n; i++) {
            char c = glob.charAt(i);
            boolean partStart = i == 0 || glob.charAt(i - 1) == '/';
            if (c == '*' && i + 1 < n && glob.charAt(i + 1) == '*') {
                boolean partEnd = i + 2 == n || glob.charAt(i + 2) == '/';
                if (partStart && partEnd) {
                    if (i + 2 == n) {
                        // "a/**": everything inside a.
                        out.append(".*");
                    } else {
                        // "**/b" or "a/**/b": any number of folders, none included.
                        out.append("(?:.*/)?");
                        i++;
                    }
                    i++;
                    continue;
                }
                out.append("[^/]*");
                i++;
                continue;
            }
            switch (c) {
                case '*' -> out.append("[^/]*");
                case '?' -> out.append("[^/]");
                case '[' -> {
                    int close = glob.indexOf(']', i + 2);
                    if (close < 0) {
                        out.append("\\[");
                    } else {
                        String body = glob.substring(i + 1, close);
                        if (body.startsWith("!")) {
                            body = "^" + body.substring(1);
                        }
                        out.append('[').append(body.replace("\\", "\\\\").replace("[", "\\[")).append(']');
                        i = close;
                    }
                }
                case '\\' -> {
                    if (i + 1 < n) {
                        out.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
                    }
                }
                default -> out.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return out.toString();
    }
}
