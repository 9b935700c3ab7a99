package coop.scheduler.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package rules of the scheduler and the agent, read from their main sources: every
 * reference to a coop package, whether an import line or a fully-qualified name in the code.
 * Each rule says why it holds in ARCHITECTURE.md.
 */
class PackageRulesTest {
    private static final Path SCHEDULER = Path.of("src/main/java/coop/scheduler");
    private static final Path AGENT = Path.of("../agent/src/main/java/coop/agent");
    /**
     * A class of a coop package named in code: coop.v1, coop.agent, coop.cli, or coop.scheduler
     * and its first sub-package, followed by a class name (or an import's {@code *}).
     */
    private static final Pattern REFERENCE = Pattern.compile(
            "\\bcoop\\.(v1|agent|cli|scheduler(?:\\.([a-z][a-z0-9]*))?)\\.[A-Z*]");

    /** Who refers to which coop packages: source package → referenced packages → the files that do. */
    static Map<String, Map<String, Set<String>>> references(Path root, String prefix) {
        Map<String, Map<String, Set<String>>> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Path rel = root.relativize(f.getParent());
                String from = rel.toString().isEmpty() ? prefix : prefix + "." + rel.getName(0);
                Matcher m = REFERENCE.matcher(code(Files.readString(f)));
                while (m.find()) {
                    String to = m.group(2) != null ? "coop.scheduler." + m.group(2) : "coop." + m.group(1);
                    if (!to.equals(from)) {
                        out.computeIfAbsent(from, k -> new TreeMap<>()).computeIfAbsent(to, k -> new TreeSet<>())
                                .add(f.getFileName().toString());
                    }
                }
                out.computeIfAbsent(from, k -> new TreeMap<>());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The source without comments and string literals, so that a package named in prose does not count. */
    static String code(String source) {
        return source.replaceAll("(?m)^package .*$", " ").replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("(?m)//.*$", " ")
                .replaceAll("\"(?:\\\\.|[^\"\\\\\\n])*\"", "\"\"");
    }

    /** The references from {@code from} to packages outside {@code allowed}, as "package (files)". */
    static List<String> outside(Map<String, Map<String, Set<String>>> refs, String from, Set<String> allowed) {
        List<String> out = new ArrayList<>();
        refs.getOrDefault(from, Map.of()).forEach((to, files) -> {
            if (!allowed.contains(to)) {
                out.add(to + " " + files);
            }
        });
        return out;
    }

    /** The cycles among packages: each strongly connected set of two or more, by Tarjan's algorithm. */
    static List<Set<String>> cycles(Map<String, Map<String, Set<String>>> refs) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : refs.keySet()) {
            if (!index.containsKey(v)) {
                connect(v, refs, index, low, stack, onStack, out, counter);
            }
        }
        return out;
    }

    private static void connect(String v, Map<String, Map<String, Set<String>>> refs, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : refs.getOrDefault(v, Map.of()).keySet()) {
            if (!refs.containsKey(w)) {
                continue;
            }
            if (!index.containsKey(w)) {
                connect(w, refs, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                out.add(component);
            }
        }
    }

    private final Map<String, Map<String, Set<String>>> scheduler = references(SCHEDULER, "coop.scheduler");

    @Test
    void theRulesSeeEveryPackage() {
        // A moved source folder must not make every rule pass on nothing.
        assertThat(scheduler).containsKeys("coop.scheduler.allocation", "coop.scheduler.domain",
                "coop.scheduler.engine", "coop.scheduler.governance", "coop.scheduler.ledger", "coop.scheduler.rpc");
        assertThat(scheduler.get("coop.scheduler.engine")).containsKey("coop.scheduler.allocation");
    }

    /** The allocator is a pure function of a snapshot: it must not reach into the engine, storage or the wire. */
    @Test
    void allocationRefersOnlyToDomain() {
        assertThat(outside(scheduler, "coop.scheduler.allocation", Set.of("coop.scheduler.domain"))).isEmpty();
    }

    /** The value types everyone shares depend on nothing of the project, so anyone may use them. */
    @Test
    void domainRefersToNoOtherCoopPackage() {
        assertThat(outside(scheduler, "coop.scheduler.domain", Set.of())).isEmpty();
    }

    /** The engine speaks in domain terms; the wire contract is translated at the rpc edge. */
    @Test
    void engineNeverRefersToTheWireContract() {
        assertThat(scheduler.getOrDefault("coop.scheduler.engine", Map.of())).doesNotContainKey("coop.v1");
    }

    /**
     * The notifier is handed job events and delivers them on its own threads: it cannot reach the
     * state, so a slow delivery cannot hold a lock or a turn of the loop.
     */
    @Test
    void notifyRefersOnlyToDomain() {
        assertThat(scheduler).containsKey("coop.scheduler.notify");
        assertThat(outside(scheduler, "coop.scheduler.notify", Set.of("coop.scheduler.domain"))).isEmpty();
    }

    /** An agent is installed on machines the cooperative does not own: it shares only the wire contract. */
    @Test
    void agentRefersOnlyToTheWireContract() {
        Map<String, Map<String, Set<String>>> agent = references(AGENT, "coop.agent");
        assertThat(agent).containsKey("coop.agent");
        assertThat(outside(agent, "coop.agent", Set.of("coop.v1"))).isEmpty();
    }

    /** Packages form layers: no two packages depend on each other, directly or around a loop. */
    @Test
    void noPackageCycles() {
        assertThat(cycles(scheduler)).isEmpty();
    }
}
