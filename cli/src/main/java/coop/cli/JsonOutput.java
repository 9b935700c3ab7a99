package coop.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.view.WireJson;
import coop.v1.Job;
import coop.v1.NodeInfo;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.UsageResponse;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Function;

/**
 * The {@code --json} output: each wire message as {@link WireJson} maps it (the mapping the
 * scheduler's {@code /api/v1/} serves too, so both print the same shape), indented.
 */
final class JsonOutput {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonOutput() {
    }

    static void print(PrintWriter out, JsonNode node) {
        try {
            out.println(MAPPER.writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> ArrayNode array(List<T> items, Function<T, JsonNode> mapper) {
        return WireJson.array(items, mapper);
    }

    static ObjectNode object() {
        return WireJson.object();
    }

    static ObjectNode job(Job job) {
        return WireJson.job(job);
    }

    static ObjectNode jobArray(coop.v1.JobArray a) {
        return WireJson.jobArray(a);
    }

    static ObjectNode node(NodeInfo node) {
        return WireJson.node(node);
    }

    static ObjectNode proposal(Proposal proposal) {
        return WireJson.proposal(proposal);
    }

    static JsonNode parsed(String json) {
        return WireJson.parsed(json);
    }

    static ObjectNode policy(Policy policy) {
        return WireJson.policy(policy);
    }

    static ObjectNode usage(UsageResponse usage) {
        return WireJson.usage(usage);
    }
}
