package coop.scheduler.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the repository ships for monitoring a scheduler: the Prometheus alert rules
 * ({@code contrib/prometheus/coop.rules.yml}, with their unit tests) and the Grafana dashboard
 * ({@code contrib/grafana/coop-dashboard.json}), and the PromQL expressions they hold.
 */
final class ContribMonitoring {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ContribMonitoring() {
    }

    /** The repository's {@code contrib} folder, found upwards from where the tests run (the module's folder). */
    static Path contrib() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("contrib/prometheus"))) {
                return dir.resolve("contrib");
            }
        }
        throw new IllegalStateException("no contrib/prometheus above " + Path.of("").toAbsolutePath());
    }

    static Path rules() {
        return contrib().resolve("prometheus/coop.rules.yml");
    }

    static Path rulesTests() {
        return contrib().resolve("prometheus/coop.rules.test.yml");
    }

    static Path dashboard() {
        return contrib().resolve("grafana/coop-dashboard.json");
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every query of the dashboard: its panels' targets and its variables' queries, as Grafana
     * holds them (with {@code $job}, {@code $__rate_interval} and the like).
     */
    static List<String> dashboardQueries() {
        try {
            List<String> queries = new ArrayList<>();
            collect(JSON.readTree(dashboard().toFile()), queries);
            return queries;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void collect(JsonNode node, List<String> queries) {
        if (node.isObject()) {
            node.fields().forEachRemaining(f -> {
                if ((f.getKey().equals("expr") || f.getKey().equals("definition")) && f.getValue().isTextual()) {
                    queries.add(f.getValue().asText());
                } else {
                    collect(f.getValue(), queries);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collect(n, queries));
        }
    }

    /**
     * A dashboard query as plain PromQL, for promtool: Grafana's interval and variables filled in,
     * and its {@code label_values(SELECTOR, LABEL)} as the selector it reads.
     */
    static String asPromQl(String query) {
        String q = query.replace("$__rate_interval", "5m").replace("$__interval", "1m")
                .replaceAll("\\$[a-z_]+", ".*");
        return q.startsWith("label_values(") ? q.substring("label_values(".length(), q.lastIndexOf(',')) : q;
    }
}
