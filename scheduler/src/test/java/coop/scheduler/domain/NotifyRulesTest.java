package coop.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What notify and notify_to accept, and what they refuse naming the field. */
class NotifyRulesTest {
    @Test
    void eventsAreSlurmsMailTypeWords() {
        assertThat(NotifyEvent.parse("notify", "end, Fail")).isEqualTo(EnumSet.of(NotifyEvent.END, NotifyEvent.FAIL));
        assertThat(NotifyEvent.parse("notify", "ALL")).isEqualTo(EnumSet.allOf(NotifyEvent.class));
        assertThat(NotifyEvent.canonical("notify", "fail,begin,fail")).isEqualTo("BEGIN,FAIL");
        assertThat(NotifyEvent.canonical("notify", "none")).isEqualTo("NONE");
        assertThat(NotifyEvent.canonical("notify", "")).isEmpty();
        assertThat(NotifyEvent.FAIL.askedBy(Set.of(NotifyEvent.END))).isTrue();
        assertThat(NotifyEvent.END.askedBy(Set.of(NotifyEvent.FAIL))).isFalse();
        assertThatThrownBy(() -> NotifyEvent.parse("notify", "END,DONE")).hasMessage("notify: unknown event 'DONE': "
                + "give comma-separated BEGIN, END, FAIL, PREEMPT, REQUEUE, ALL or NONE");
        assertThatThrownBy(() -> NotifyEvent.parse("notify", "END,,FAIL")).hasMessageStartingWith("notify: 'END,,FAIL' "
                + "has an empty event");
        assertThatThrownBy(() -> NotifyEvent.parse("notify", "NONE,END")).hasMessageStartingWith("notify: NONE cannot");
    }

    @Test
    void aTargetIsAnHttpUrlOrAnEmailAddressAndNothingElse() {
        assertThat(NotifyTarget.parse("notify_to", "https://Hooks.Example.org:8443/x?token=s"))
                .isInstanceOfSatisfying(NotifyTarget.Url.class, u -> {
                    assertThat(u.host()).isEqualTo("hooks.example.org");
                    assertThat(u.shown()).isEqualTo("https://Hooks.Example.org:8443/x");
                });
        assertThat(NotifyTarget.parse("notify_to", "http://127.0.0.1:9/")).isInstanceOf(NotifyTarget.Url.class);
        assertThat(NotifyTarget.parse("notify_to", "ann.lee+coop@lab.example.org"))
                .isEqualTo(new NotifyTarget.Email("ann.lee+coop@lab.example.org"));
        assertThatThrownBy(() -> NotifyTarget.parse("notify_to", "file:///etc/passwd"))
                .hasMessage("notify_to: 'file:///etc/passwd' is a file: URL; give an http(s) URL or an email address");
        assertThatThrownBy(() -> NotifyTarget.parse("notify_to", "http:///nohost"))
                .hasMessageStartingWith("notify_to: 'http:///nohost' names no host");
        assertThatThrownBy(() -> NotifyTarget.parse("notify_to", "ann@"))
                .hasMessage("notify_to: 'ann@' is neither an http(s) URL nor an email address");
        assertThatThrownBy(() -> NotifyTarget.parse("notify_to", "ann@lab..org"))
                .hasMessageContaining("neither an http(s) URL nor an email address");
        assertThatThrownBy(() -> NotifyTarget.parse("notify_to", "a b@c.org")).hasMessageContaining("without spaces");
    }

    @Test
    void theOperatorsReachDecidesWhichTargetsAreTaken() {
        NotifyReach reach = new NotifyReach(Set.of("127.0.0.1", "Hooks.Example.org"), false);
        NotifyTarget ok = NotifyTarget.parse("notify_to", "https://hooks.example.org/a");
        assertThat(reach.permit("notify_to", ok)).isSameAs(ok);
        assertThatThrownBy(() -> reach.permit("notify_to", NotifyTarget.parse("notify_to", "http://169.254.169.254/")))
                .hasMessage("notify_to: this scheduler does not call host '169.254.169.254': its operator allows "
                        + "127.0.0.1, hooks.example.org");
        assertThatThrownBy(() -> reach.permit("notify_to", NotifyTarget.parse("notify_to", "ann@example.org")))
                .hasMessage("notify_to: this scheduler sends no mail: its operator gave no --smtp");
    }
}
