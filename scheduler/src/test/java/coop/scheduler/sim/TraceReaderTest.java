package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TraceReaderTest {

    @Test
    void readsJobsInSubmitOrderWithAnyModelForAnEmptyColumn() {
        Trace trace = TraceReader.parse("""
                submit_s,account,gpus,duration_s,gpu_model
                10,lab-b,8,3600,
                0,lab-a,1,1200.5,V100

                # a comment
                10,lab-a,16,60,
                """, "t.csv");

        assertThat(trace.jobs()).extracting(TraceJob::id).containsExactly(2L, 1L, 3L);
        TraceJob first = trace.jobs().get(0);
        assertThat(first.line()).isEqualTo(3);
        assertThat(first.submitMs()).isZero();
        assertThat(first.account()).isEqualTo("lab-a");
        assertThat(first.gpus()).isEqualTo(1);
        assertThat(first.durationMs()).isEqualTo(1_200_500);
        assertThat(first.gpuModel()).isEqualTo("V100");
        assertThat(trace.jobs().get(1).gpuModel()).isEmpty();
        assertThat(trace.accounts()).containsExactly("lab-a", "lab-b");
        assertThat(trace.window()).isEqualTo(new Window(0, 10_000));
    }

    @Test
    void aBadRowNamesItsLineAndColumn() {
        String csv = """
                submit_s,account,gpus,duration_s,gpu_model
                0,lab-a,1,60,
                5,lab-a,two,60,
                """;
        assertThatThrownBy(() -> TraceReader.parse(csv, "t.csv"))
                .isInstanceOf(TraceFormatException.class)
                .hasMessage("t.csv line 3, column 3 (gpus): 'two' is not a positive whole number")
                .satisfies(e -> assertThat(((TraceFormatException) e).line()).isEqualTo(3));
    }

    @Test
    void otherBadInputIsNamedToo() {
        assertThatThrownBy(() -> TraceReader.parse("submit_s,account,gpus,duration_s\n0,a,1,0\n", "t.csv"))
                .hasMessage("t.csv line 2, column 4 (duration_s): '0' must be positive");
        assertThatThrownBy(() -> TraceReader.parse("submit_s,account,gpus,duration_s\n-1,a,1,5\n", "t.csv"))
                .hasMessage("t.csv line 2, column 1 (submit_s): '-1' must be zero or more");
        assertThatThrownBy(() -> TraceReader.parse("submit_s,account,gpus,duration_s\n0,,1,5\n", "t.csv"))
                .hasMessage("t.csv line 2, column 2 (account): empty account");
        assertThatThrownBy(() -> TraceReader.parse("submit_s,account,gpus,duration_s\n0,a,1\n", "t.csv"))
                .hasMessage("t.csv line 2: 3 columns, the header has 4");
        assertThatThrownBy(() -> TraceReader.parse("submit_s,account,duration_s\n", "t.csv"))
                .hasMessageStartingWith("t.csv line 1: the header has no column 'gpus'");
        assertThatThrownBy(() -> TraceReader.parse("", "t.csv")).hasMessageStartingWith("t.csv: empty trace");
    }
}
