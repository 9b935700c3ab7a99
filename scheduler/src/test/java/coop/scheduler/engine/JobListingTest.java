package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.governance.TestMembers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listings as {@code coop jobs} and {@code coop history} ask for them: pages newest first that
 * stay put while jobs arrive, and the member, state and finished-since filters. On a real RocksDB
 * store with a hand-moved clock, as {@link EngineTest}.
 */
class JobListingTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-a", "lab-b"))), List.of("lab-a", "lab-b"));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private long submit(String member, String account, String name) throws Exception {
        return engine.call((s, tx) -> s.submit(member, new JobSpec(account, 1, 1, "", 60, "true", 0, name, false,
                false), tx));
    }

    private long submitArray(String member, String array) throws Exception {
        return engine.<JobBook.Submitted>call((s, tx) -> s.submitJobs(member, new JobSpec("lab-a", 1, 1, "", 60,
                "true", 0, "sweep", false, false, "", array), tx)).arrayId();
    }

    private JobBook.Page page(JobBook.Filter filter, long before, int size) throws Exception {
        return engine.call((s, tx) -> s.listing(filter, before, size));
    }

    private static List<Long> ids(JobBook.Page page) {
        return page.lines().stream().map(l -> l.job() != null ? l.job().id() : l.array().id()).toList();
    }

    private static JobBook.Filter member(String member, Set<JobState> states, long finishedSince) {
        return new JobBook.Filter("", member, states, finishedSince, 0, false);
    }

    @Test
    void pagesGoNewestFirstAndStayPutWhileJobsArrive() throws Exception {
        List<Long> submitted = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            submitted.add(submit(i % 2 == 0 ? "alice" : "bob", "lab-a", "j" + i));
        }
        JobBook.Filter all = JobBook.Filter.of("", Set.of());
        JobBook.Page first = page(all, 0, 3);
        assertThat(ids(first)).containsExactly(submitted.get(6), submitted.get(5), submitted.get(4));
        assertThat(first.next()).isEqualTo(submitted.get(4));

        // A job submitted between two pages is newer than every job listed: the next pages do not move.
        long late = submit("alice", "lab-a", "late");
        JobBook.Page second = page(all, first.next(), 3);
        assertThat(ids(second)).containsExactly(submitted.get(3), submitted.get(2), submitted.get(1));
        JobBook.Page last = page(all, second.next(), 3);
        assertThat(ids(last)).containsExactly(submitted.get(0));
        assertThat(last.next()).as("the last page says so").isZero();

        // A page that ends exactly on the last job says it is the last: no empty page after it.
        JobBook.Page exact = page(all, 0, 8);
        assertThat(ids(exact)).hasSize(8).startsWith(late);
        assertThat(exact.next()).isZero();
    }

    @Test
    void theMemberFilterKeepsOnlyThatMembersJobsAcrossPages() throws Exception {
        List<Long> bobs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            // Bob's first job is charged to lab-b, his second to lab-a, which Alice's all are.
            long id = i % 3 == 0 ? submit("bob", i == 0 ? "lab-b" : "lab-a", "j" + i) : submit("alice", "lab-a", "j" + i);
            if (i % 3 == 0) {
                bobs.add(0, id);
            }
        }
        JobBook.Page first = page(member("bob", Set.of(), 0), 0, 1);
        assertThat(ids(first)).containsExactly(bobs.get(0));
        JobBook.Page second = page(member("bob", Set.of(), 0), first.next(), 1);
        assertThat(ids(second)).containsExactly(bobs.get(1));
        assertThat(second.next()).isZero();
        assertThat(ids(page(new JobBook.Filter("lab-b", "bob", Set.of(), 0, 0, false), 0, 10)))
                .containsExactly(bobs.get(1));
        assertThat(page(member("alice", Set.of(), 0), 0, 10).lines()).hasSize(4)
                .allSatisfy(l -> assertThat(l.job().member()).isEqualTo("alice"));
    }

    @Test
    void historyKeepsJobsThatEndedAtOrAfterTheTimeGiven() throws Exception {
        long early = submit("alice", "lab-a", "early");
        long late = submit("alice", "lab-a", "late");
        long waiting = submit("alice", "lab-a", "waiting");
        engine.call((s, tx) -> s.cancel("alice", early, tx));
        clock.advanceSeconds(60);
        long since = clock.millis();
        engine.call((s, tx) -> s.cancel("alice", late, tx));

        assertThat(ids(page(member("alice", Set.of(), since), 0, 10))).as("ended at the time given")
                .containsExactly(late);
        assertThat(ids(page(member("alice", Set.of(), since - 60_000), 0, 10))).containsExactly(late, early);
        assertThat(ids(page(member("alice", Set.of(JobState.FAILED), since - 60_000), 0, 10)))
                .as("and in the states asked for").isEmpty();
        assertThat(ids(page(member("alice", Set.of(JobState.PENDING), 0), 0, 10))).containsExactly(waiting);
        assertThat(ids(page(member("alice", Set.of(), since + 1), 0, 10))).isEmpty();
    }

    @Test
    void aPageThatEndsOnAnArrayGoesOnBelowIt() throws Exception {
        long older = submit("alice", "lab-a", "older");
        long array = submitArray("alice", "0-2");
        long newer = submit("alice", "lab-a", "newer");
        JobBook.Filter grouped = new JobBook.Filter("", "", Set.of(), 0, 0, true);
        List<Long> seen = new ArrayList<>();
        long before = 0;
        int pages = 0;
        do {
            JobBook.Page p = page(grouped, before, 1);
            seen.addAll(ids(p));
            before = p.next();
            pages++;
        } while (before != 0);
        assertThat(seen).containsExactly(newer, array, older);
        assertThat(pages).isEqualTo(3);

        // One array's tasks page like any jobs.
        JobBook.Filter tasks = new JobBook.Filter("", "", Set.of(), 0, array, false);
        JobBook.Page first = page(tasks, 0, 2);
        assertThat(ids(first)).containsExactly(array + 3, array + 2);
        assertThat(ids(page(tasks, first.next(), 2))).containsExactly(array + 1);
    }

    @Test
    void badPagesAndFiltersAreRefusedNamingTheField() {
        assertRefused(() -> page(JobBook.Filter.of("", Set.of()), -1, 10), CoopException.Kind.INVALID_ARGUMENT,
                "page_token: ");
        assertRefused(() -> page(JobBook.Filter.of("", Set.of()), 0, 0), CoopException.Kind.INVALID_ARGUMENT,
                "page_size: ");
        assertRefused(() -> page(member("", Set.of(), -5), 0, 10), CoopException.Kind.INVALID_ARGUMENT,
                "finished_since_ms: ");
        assertRefused(() -> page(member("Alice", Set.of(), 0), 0, 10), CoopException.Kind.INVALID_ARGUMENT,
                "member: 'Alice' must match");
        assertRefused(() -> page(member("zed", Set.of(), 0), 0, 10), CoopException.Kind.NOT_FOUND,
                "no member named 'zed'");
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
                                      CoopException.Kind kind, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(kind);
            assertThat(e.getMessage()).startsWith(message);
        });
    }
}
