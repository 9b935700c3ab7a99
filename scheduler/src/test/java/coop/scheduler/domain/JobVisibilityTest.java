package coop.scheduler.domain;

import static coop.scheduler.domain.JobVisibility.Access.ACCOUNT_MEMBER;
import static coop.scheduler.domain.JobVisibility.Access.NODE_OPERATOR;
import static coop.scheduler.domain.JobVisibility.Access.REVIEW_PANEL;
import static coop.scheduler.domain.JobVisibility.Access.SHOWN_TO_ALL;
import static coop.scheduler.domain.JobVisibility.Access.WITHHELD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The rule of who reads a job's command and output, on its own: lab-a's job, run on lab-b's node
 * b1 (enrolled by bea) and lab-a's node a1, with a panel of lab-c's cy while in review.
 */
class JobVisibilityTest {
    private static final Map<String, NodeRecord> NODES = Map.of(
            "a1", new NodeRecord("a1", "north", "lab-a", "ann", "0".repeat(64), 1),
            "b1", new NodeRecord("b1", "south", "lab-b", "bea", "0".repeat(64), 1));

    private static Member member(String name, String account, Role... roles) {
        Set<Role> set = roles.length == 0 ? EnumSet.noneOf(Role.class) : EnumSet.of(roles[0], roles);
        return new Member(name, List.of(account), set, "key", "digest", 1, 0);
    }

    private static Job job(JobState state, String... nodes) {
        List<Attempt> attempts = nodes.length == 0 ? List.of() : List.of(Attempt.start(1, 10, java.util.Arrays
                .stream(nodes).map(n -> new Placement(n, "s", "A100", List.of(0))).toList(), false));
        return new Job(7, "train", "lab-a", "ann", 1, Math.max(1, nodes.length), "A100", 600, "python train.py",
                0, false, state, 5, 0, attempts, false, "");
    }

    private static JobVisibility.Access access(Member reader, Job job) {
        return JobVisibility.of(reader, NODES::get, id -> id == 7 ? List.of("cy") : List.of()).access(job);
    }

    @Test
    void everyMemberOfTheJobsAccountReadsItWhateverItsRoles() {
        assertThat(access(member("al", "lab-a"), job(JobState.PENDING))).isEqualTo(ACCOUNT_MEMBER);
        assertThat(access(member("al", "lab-a", Role.MEMBER), job(JobState.SUCCEEDED, "b1"))).isEqualTo(ACCOUNT_MEMBER);
    }

    @Test
    void aMemberOfAnotherAccountSeesOnlyTheMetadata() {
        Member bob = member("bob", "lab-b", Role.MEMBER, Role.RESEARCHER);
        assertThat(access(bob, job(JobState.RUNNING, "b1"))).as("not an operator, though b1 is its account's")
                .isEqualTo(WITHHELD);
        assertThat(access(member("op", "lab-b", Role.OPERATOR), job(JobState.RUNNING, "a1")))
                .as("an operator, but of no node that ran it").isEqualTo(WITHHELD);
    }

    @Test
    void theOperatorsOfANodeThatRanAnyAttemptReadIt() {
        Member op = member("op", "lab-b", Role.OPERATOR);
        assertThat(access(op, job(JobState.RUNNING, "a1", "b1"))).as("a gang with one rank on b1")
                .isEqualTo(NODE_OPERATOR);
        Job requeued = job(JobState.RUNNING, "b1").withAttempt(Attempt.start(2, 20,
                List.of(new Placement("a1", "s", "A100", List.of(0))), false));
        assertThat(access(op, requeued)).as("b1 ran an earlier attempt").isEqualTo(NODE_OPERATOR);
        // The operator who enrolled b1, should it since belong to another account.
        assertThat(access(member("bea", "lab-z", Role.OPERATOR), job(JobState.SUCCEEDED, "b1")))
                .isEqualTo(NODE_OPERATOR);
    }

    @Test
    void aNodesOperatorReadsNothingThroughItOnceItIsRemoved() {
        Job ran = job(JobState.SUCCEEDED, "gone");
        assertThat(access(member("op", "lab-b", Role.OPERATOR), ran)).isEqualTo(WITHHELD);
    }

    @Test
    void theReviewPanelReadsItOnlyWhileItIsInReview() {
        Member cy = member("cy", "lab-c", Role.MEMBER);
        assertThat(access(cy, job(JobState.REVIEW))).isEqualTo(REVIEW_PANEL);
        assertThat(access(cy, job(JobState.PENDING))).isEqualTo(WITHHELD);
        assertThat(access(cy, job(JobState.CANCELLED))).isEqualTo(WITHHELD);
        assertThat(access(member("dee", "lab-c", Role.MEMBER), job(JobState.REVIEW))).as("not drawn")
                .isEqualTo(WITHHELD);
    }

    @Test
    void noOneReadsWithoutBeingAnActiveMemberUnlessEverythingIsShown() {
        Member gone = member("al", "lab-a").removed(9);
        assertThat(access(gone, job(JobState.RUNNING, "a1"))).isEqualTo(WITHHELD);
        assertThat(access(null, job(JobState.RUNNING, "a1"))).isEqualTo(WITHHELD);
        assertThat(JobVisibility.nobody().access(job(JobState.RUNNING, "a1"))).isEqualTo(WITHHELD);
        assertThat(JobVisibility.everyone().access(job(JobState.RUNNING, "a1"))).isEqualTo(SHOWN_TO_ALL);
    }

    @Test
    void aRefusalNamesTheReaderTheJobAndTheRule() {
        JobVisibility bob = JobVisibility.of(member("bob", "lab-b"), NODES::get, id -> List.of());
        assertThatThrownBy(() -> bob.requireReadable(job(JobState.RUNNING, "a1")))
                .isInstanceOfSatisfying(CoopException.class, e -> assertThat(e.kind())
                        .isEqualTo(CoopException.Kind.PERMISSION_DENIED))
                .hasMessage("member bob may not read the output of job 7 of account lab-a: " + JobVisibility.RULE);
        JobVisibility.of(member("al", "lab-a"), NODES::get, id -> List.of()).requireReadable(job(JobState.RUNNING));
    }

    @Test
    void anArraysCommandIsReadByItsAccountOrByWhoeverMayReadOneOfItsTasks() {
        Job task = job(JobState.RUNNING, "b1");
        JobArray array = JobArray.of(3, List.of(task));
        AtomicBoolean asked = new AtomicBoolean();
        JobVisibility own = JobVisibility.of(member("al", "lab-a"), NODES::get, id -> List.of());
        assertThat(own.access(array, () -> {
            asked.set(true);
            return List.of(task);
        })).isEqualTo(ACCOUNT_MEMBER);
        assertThat(asked).as("its account's members need no look at the tasks").isFalse();
        JobVisibility op = JobVisibility.of(member("op", "lab-b", Role.OPERATOR), NODES::get, id -> List.of());
        assertThat(op.access(array, () -> List.of(task))).isEqualTo(NODE_OPERATOR);
        JobVisibility other = JobVisibility.of(member("bob", "lab-b"), NODES::get, id -> List.of());
        assertThat(other.access(array, () -> List.of(task))).isEqualTo(WITHHELD);
    }
}
