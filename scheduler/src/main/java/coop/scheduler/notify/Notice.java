package coop.scheduler.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobEvent;
import java.time.Instant;

/**
 * A job event as it is sent: the JSON a hook receives, and the subject and text a person reads in
 * a mail. Made once per event, whoever it goes to.
 */
record Notice(long jobId, String event, String json, String subject, String text) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Notice of(JobEvent e) {
        Job j = e.job();
        ObjectNode o = JSON.createObjectNode();
        o.put("job_id", j.id());
        o.put("name", j.name());
        o.put("account", j.account());
        o.put("member", j.member());
        o.put("event", e.event().name());
        o.put("state", j.state().name());
        o.put("exit_code", e.exitCode());
        o.put("end_reason", e.reason());
        o.put("time", Instant.ofEpochMilli(e.at()).toString());
        o.put("time_ms", e.at());
        if (j.inArray()) {
            o.put("array_id", j.arrayId());
            o.put("array_index", j.arrayIndex());
        }
        o.put("text", e.text());
        String json;
        try {
            json = JSON.writeValueAsString(o);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        String subject = "[coop] job " + j.id() + (j.name().isEmpty() ? "" : " (" + j.name() + ")") + " "
                + e.event().name() + ": " + j.state().name();
        String text = e.text() + "\n\naccount: " + j.account() + "\nmember:  " + j.member() + "\nstate:   "
                + j.state().name() + "\nevent:   " + e.event().name() + "\ntime:    " + Instant.ofEpochMilli(e.at())
                + "\n\nSee it with: coop job " + j.id() + "\n";
        return new Notice(j.id(), e.event().name(), json, subject, text);
    }
}
