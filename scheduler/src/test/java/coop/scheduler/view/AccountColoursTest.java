package coop.scheduler.view;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AccountColoursTest {

    @Test
    void accountsTakeThePaletteInNameOrder() {
        assertThat(AccountColours.of(Set.of("uni-c", "lab-a", "lab-b")))
                .containsExactly(java.util.Map.entry("lab-a", "#4e79a7"), java.util.Map.entry("lab-b", "#f28e2b"),
                        java.util.Map.entry("uni-c", "#59a14f"));
    }

    @Test
    void theDashboardScriptHoldsTheSamePaletteInTheSameOrder() throws Exception {
        String script;
        try (InputStream in = AccountColours.class.getResourceAsStream("/coop/scheduler/http/dashboard.js")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher line = Pattern.compile("var PALETTE = \\[([^\\]]*)\\]").matcher(script);
        assertThat(line.find()).as("dashboard.js declares PALETTE").isTrue();
        List<String> colours = new ArrayList<>();
        Matcher c = Pattern.compile("'(#[0-9a-f]{6})'").matcher(line.group(1));
        while (c.find()) {
            colours.add(c.group(1));
        }
        assertThat(colours).isEqualTo(AccountColours.PALETTE);
        // And it gives them out by account name, as of() does.
        assertThat(script).contains("knownAccounts.sort(");
    }
}
