package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void padsColumnsAndMarksEmptyCells() {
        StringWriter text = new StringWriter();
        new Table("ID", "NAME", "WHY").row(1, "train", "no free A100").row(12, "", "x\ny").print(new PrintWriter(text, true));
        assertThat(text.toString().lines()).containsExactly(
                "ID  NAME   WHY",
                "1   train  no free A100",
                "12  -      x y");
    }
}
