package coop.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.JobVisibility;
import coop.scheduler.domain.Names;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.JobBook;
import coop.scheduler.view.Reads;
import coop.scheduler.view.WireJson;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each path of the dashboard serves. Every {@code /api/v1/} answer is a wire message the
 * gRPC services give too ({@link Reads}), printed by {@link WireJson} as the CLI's {@code --json}
 * prints it; query parameters mirror the CLI's options. At most {@link #MAX_READS} reads wait on
 * the event loop at once: past that a caller gets 503 rather than a longer queue in front of
 * the scheduler's writes.
 */
final class Routes {
    private static final Logger log = LoggerFactory.getLogger(Routes.class);
    static final int MAX_READS = 32;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);
    static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    private final EventLoop loop;
    private final History history;
    private final LedgerCheck ledger;
    private final Assets assets;
    private final Supplier<String> metrics;
    private final Executor metricsExecutor;
    private final Semaphore reads = new Semaphore(MAX_READS);
    /** The dashboard has no login, so it reads as no member: commands only if its operator chose to show them. */
    private final JobVisibility commands;

    /** @param showCommands whether {@code /api/v1/jobs} shows every job's command (otherwise none) */
    Routes(EventLoop loop, History history, LedgerCheck ledger, Assets assets, Supplier<String> metrics,
           Executor metricsExecutor, boolean showCommands) {
        this.loop = loop;
        this.commands = showCommands ? JobVisibility.everyone() : JobVisibility.nobody();
        this.history = history;
        this.ledger = ledger;
        this.assets = assets;
        this.metrics = metrics;
        this.metricsExecutor = metricsExecutor;
    }

    /** The answer to a GET (or HEAD) of {@code uri}; never completes exceptionally. */
    CompletableFuture<Reply> get(String uri) {
        String path = null;
        try {
            QueryStringDecoder q = new QueryStringDecoder(uri, StandardCharsets.UTF_8, true);
            path = q.path();
            Map<String, List<String>> params = Query.parse(q.rawQuery());
            return route(path, params).exceptionally(failure(path));
        } catch (BadRequest e) {
            return CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.BAD_REQUEST, path, e.getMessage()));
        } catch (IllegalArgumentException e) {
            // QueryStringDecoder on a malformed escape in the path, such as /%zz.
            return CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.BAD_REQUEST, path,
                    "malformed request target: " + Routes.abbreviate(String.valueOf(e.getMessage()))));
        }
    }

    private CompletableFuture<Reply> route(String path, Map<String, List<String>> params) {
        Reply asset = assets.get(path);
        if (asset != null) {
            only(params);
            return CompletableFuture.completedFuture(asset);
        }
        return switch (path) {
            case "/metrics" -> metrics(params);
            case "/api/v1/nodes" -> {
                only(params);
                yield read(() -> Reads.nodes(loop), r -> WireJson.array(r.getNodesList(), WireJson::node));
            }
            case "/api/v1/jobs" -> {
                only(params, "account", "member", "state", "limit", "page_size", "page_token");
                String account = name("account", one(params, "account", ""));
                String member = name("member", one(params, "member", ""));
                Set<JobState> states = states(one(params, "state", ""));
                int size = Reads.pageSize(number(params, "page_size", 0, Integer.MAX_VALUE),
                        number(params, "limit", 0, Integer.MAX_VALUE));
                long before;
                try {
                    before = Reads.pageStart(one(params, "page_token", ""));
                } catch (CoopException e) {
                    throw new BadRequest(e.getMessage());
                }
                var filter = new JobBook.Filter(account, member, states, 0, 0, false);
                yield read(() -> Reads.jobs(loop, s -> commands, filter, before, size), Routes::jobs)
                        .exceptionally(notFoundAs(message -> message.startsWith("no member") ? "member: " + message
                                : "account: no account named '" + account + "'"));
            }
            case "/api/v1/usage" -> {
                only(params);
                yield read(() -> Reads.usage(loop), WireJson::usage);
            }
            case "/api/v1/proposals" -> {
                only(params, "open");
                boolean open = bool(params, "open");
                yield read(() -> Reads.proposals(loop, open),
                        r -> WireJson.array(r.getProposalsList(), WireJson::proposal));
            }
            case "/api/v1/ledger" -> {
                only(params);
                yield read(() -> Reads.ledgerHead(loop), ledger::json);
            }
            case "/api/v1/history" -> {
                only(params, "since");
                long since = number(params, "since", 0, Long.MAX_VALUE);
                yield CompletableFuture.completedFuture(Reply.json(history.json(since)).with("Cache-Control",
                        "no-store"));
            }
            default -> CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.NOT_FOUND, path,
                    "no such page: " + abbreviate(path)));
        };
    }

    private CompletableFuture<Reply> metrics(Map<String, List<String>> params) {
        if (metrics == null) {
            return CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.NOT_FOUND, "/metrics",
                    "this scheduler exports no metrics"));
        }
        only(params);
        return CompletableFuture.supplyAsync(() -> Reply.text(HttpResponseStatus.OK, PROMETHEUS, metrics.get())
                .with("Cache-Control", "no-store"), metricsExecutor);
    }

    private <T> CompletableFuture<Reply> read(Supplier<CompletableFuture<T>> call,
                                              java.util.function.Function<T, JsonNode> json) {
        if (!reads.tryAcquire()) {
            return CompletableFuture.completedFuture(Reply.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "/api/",
                    "too many reads in flight; try again").with("Retry-After", "1"));
        }
        CompletableFuture<T> f;
        try {
            f = call.get();
        } catch (RuntimeException e) {
            reads.release();
            throw e;
        }
        f.whenComplete((v, e) -> reads.release());
        return f.orTimeout(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(v -> Reply.json(json.apply(v)).with("Cache-Control", "no-store"));
    }

    private static java.util.function.Function<Throwable, Reply> failure(String path) {
        return e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof TimeoutException) {
                return Reply.error(HttpResponseStatus.SERVICE_UNAVAILABLE, path, "the scheduler did not answer in "
                        + READ_TIMEOUT.toSeconds() + " s");
            }
            if (cause instanceof BadRequest b) {
                return Reply.error(HttpResponseStatus.BAD_REQUEST, path, b.getMessage());
            }
            if (cause instanceof CoopException c && c.kind() == CoopException.Kind.UNAVAILABLE) {
                return Reply.error(HttpResponseStatus.SERVICE_UNAVAILABLE, path, c.getMessage());
            }
            if (cause instanceof CoopException c && c.kind() == CoopException.Kind.INVALID_ARGUMENT) {
                // Its message names the field, which is the parameter of the same name.
                return Reply.error(HttpResponseStatus.BAD_REQUEST, path, abbreviate(c.getMessage()));
            }
            log.warn("{} failed", path, cause);
            return Reply.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, path, "internal error: " + cause);
        };
    }

    /**
     * Turns the scheduler's NOT_FOUND for a read's filter into a 400 that names the parameter:
     * the page exists, what the caller asked of it does not.
     */
    private static <T> java.util.function.Function<Throwable, T> notFoundAs(
            java.util.function.UnaryOperator<String> message) {
        return e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof CoopException c && c.kind() == CoopException.Kind.NOT_FOUND) {
                throw new CompletionException(new BadRequest(message.apply(c.getMessage())));
            }
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
        };
    }

    // ------------------------------------------------------------------ parameters

    private static void only(Map<String, List<String>> params, String... allowed) {
        for (String name : params.keySet()) {
            if (!Arrays.asList(allowed).contains(name)) {
                throw new BadRequest("unknown parameter '" + abbreviate(name) + "'" + (allowed.length == 0
                        ? ": this page takes none" : "; expected " + String.join(", ", allowed)));
            }
        }
    }

    private static String one(Map<String, List<String>> params, String name, String otherwise) {
        List<String> values = params.get(name);
        if (values == null) {
            return otherwise;
        }
        if (values.size() > 1) {
            throw new BadRequest(name + ": given " + values.size() + " times; give it once");
        }
        return values.get(0);
    }

    private static long number(Map<String, List<String>> params, String name, long min, long max) {
        String v = one(params, name, null);
        if (v == null) {
            return min;
        }
        // ASCII digits only: Long.parseLong also takes a sign and other scripts' digits.
        if (!v.matches("-?[0-9]+")) {
            throw new BadRequest(name + ": must be a whole number, got '" + abbreviate(v) + "'");
        }
        java.math.BigInteger n = new java.math.BigInteger(v);
        if (n.compareTo(java.math.BigInteger.valueOf(min)) < 0 || n.compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            throw new BadRequest(name + ": must be between " + min + " and " + max + ", got " + abbreviate(v));
        }
        return n.longValueExact();
    }

    /** An account or member filter: empty for every one, otherwise a name as {@link Names} allows. */
    private static String name(String parameter, String name) {
        if (!name.isEmpty() && !Names.valid(name)) {
            throw new BadRequest(parameter + ": '" + abbreviate(name) + "' must match " + Names.rule());
        }
        return name;
    }

    /**
     * A page of jobs: {@code {"jobs": [...], "next_page_token": "..."}}, the jobs as {@code coop jobs
     * --json} prints each, the token empty on the last page.
     */
    private static JsonNode jobs(coop.v1.ListJobsResponse r) {
        var page = WireJson.object();
        page.set("jobs", WireJson.array(r.getJobsList(), WireJson::job));
        page.put("next_page_token", r.getNextPageToken());
        return page;
    }

    private static int number(Map<String, List<String>> params, String name, int min, int max) {
        return (int) number(params, name, (long) min, (long) max);
    }

    private static boolean bool(Map<String, List<String>> params, String name) {
        String v = one(params, name, "false");
        return switch (v) {
            case "true", "1", "" -> true;
            case "false", "0" -> false;
            default -> throw new BadRequest(name + ": must be true or false, got '" + abbreviate(v) + "'");
        };
    }

    /** Comma-separated state names as {@code coop jobs --state} takes them. */
    private static Set<JobState> states(String list) {
        Set<JobState> states = EnumSet.noneOf(JobState.class);
        if (list.isEmpty()) {
            return states;
        }
        for (String name : list.split(",", -1)) {
            JobState state = Reads.stateNamed(name);
            if (state == null) {
                throw new BadRequest("state: unknown state '" + abbreviate(name)
                        + "'; expected pending, running, succeeded, failed, cancelled or review");
            }
            states.add(state);
        }
        return states;
    }

    /** Echoes at most 80 characters of what a caller sent, so a refusal stays one short line. */
    static String abbreviate(String s) {
        String clean = s.codePoints().map(c -> c < 0x20 || c == 0x7f ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return clean.length() <= 80 ? clean : clean.substring(0, 77) + "...";
    }
}
