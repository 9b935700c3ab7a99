package coop.scheduler.view;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.NodeInfo;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.UsageResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Every field of every message that {@code coop ... --json} and the dashboard's {@code /api/v1/}
 * print appears in its JSON, nested messages included: a field added to the proto but forgotten
 * in {@link WireJson} (as Attempt.borrowed, Job.no_preempt and Job.purpose once were) fails here
 * by name. Each message is filled with a non-default value in every field, so a mapper that
 * prints only fields that are set is caught too.
 */
class WireJsonCoverageTest {

    /**
     * Fields whose JSON key is not the proto name, by "Message.field": a JSON text embedded as
     * JSON, an array's id under the name its tasks use for it.
     */
    private static final Map<String, String> RENAMED = Map.of(
            "JobArray.id", "array_id",
            "Proposal.change_json", "change",
            "Policy.params_json", "params",
            "Policy.constitution_json", "constitution");

    /** Fields printed in a shape of their own, whose inside is not the message's fields: counts by state name. */
    private static final List<String> RESHAPED = List.of("JobArray.counts");

    @Test
    void everyFieldOfEveryPrintedMessageIsInItsJson() {
        List<String> missing = new ArrayList<>();
        check(Job.getDescriptor(), m -> WireJson.job((Job) m), missing);
        check(JobArray.getDescriptor(), m -> WireJson.jobArray((JobArray) m), missing);
        check(NodeInfo.getDescriptor(), m -> WireJson.node((NodeInfo) m), missing);
        check(Proposal.getDescriptor(), m -> WireJson.proposal((Proposal) m), missing);
        check(Policy.getDescriptor(), m -> WireJson.policy((Policy) m), missing);
        check(UsageResponse.getDescriptor(), m -> WireJson.usage((UsageResponse) m), missing);
        if (!missing.isEmpty()) {
            fail("fields missing from WireJson's JSON (add them to WireJson): " + String.join(", ", missing));
        }
    }

    @Test
    void theCheckFindsAFieldLeftOut() {
        List<String> missing = new ArrayList<>();
        check(Job.getDescriptor(), m -> {
            var o = WireJson.job((Job) m);
            o.remove("purpose");
            return o;
        }, missing);
        assertTrue(missing.contains("Job.purpose"), () -> "found " + missing);
    }

    private static void check(Descriptor type, Function<Message, JsonNode> mapper, List<String> missing) {
        Message full = filled(type, 0);
        compare(type, mapper.apply(full), missing);
    }

    private static void compare(Descriptor type, JsonNode json, List<String> missing) {
        for (FieldDescriptor f : type.getFields()) {
            String name = type.getName() + "." + f.getName();
            String key = RENAMED.getOrDefault(name, f.getName());
            JsonNode value = json.get(key);
            if (value == null) {
                missing.add(name);
                continue;
            }
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || f.isMapField() || RESHAPED.contains(name)) {
                continue;
            }
            if (f.isRepeated()) {
                if (!value.isArray() || value.isEmpty()) {
                    missing.add(name + "[]");
                    continue;
                }
                compare(f.getMessageType(), value.get(0), missing);
            } else if (value.isObject()) {
                compare(f.getMessageType(), value, missing);
            } else {
                missing.add(name + " (not an object)");
            }
        }
    }

    /** A message with every field set to a value other than its default, one element per list. */
    private static Message filled(Descriptor type, int depth) {
        Message.Builder b = generatedBuilder(type);
        for (FieldDescriptor f : type.getFields()) {
            if (f.getRealContainingOneof() != null && b.hasOneof(f.getRealContainingOneof())) {
                continue;
            }
            Object v = value(f, depth);
            if (f.isRepeated()) {
                b.addRepeatedField(f, v);
            } else {
                b.setField(f, v);
            }
        }
        return b.build();
    }

    private static Message.Builder generatedBuilder(Descriptor type) {
        // The generated class, so that WireJson's casts hold.
        try {
            Class<?> c = Class.forName("coop.v1." + type.getName());
            return (Message.Builder) c.getMethod("newBuilder").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object value(FieldDescriptor f, int depth) {
        if (f.isMapField()) {
            Descriptor entry = f.getMessageType();
            Message.Builder e = com.google.protobuf.DynamicMessage.newBuilder(entry);
            e.setField(entry.findFieldByName("key"), value(entry.findFieldByName("key"), depth + 1));
            e.setField(entry.findFieldByName("value"), value(entry.findFieldByName("value"), depth + 1));
            return e.build();
        }
        return switch (f.getJavaType()) {
            case INT -> 7;
            case LONG -> 7L;
            case FLOAT -> 1.5f;
            case DOUBLE -> 1.5;
            case BOOLEAN -> true;
            case STRING -> f.getName().endsWith("_json") ? "{\"k\":1}" : "x";
            case BYTE_STRING -> ByteString.copyFromUtf8("x");
            case ENUM -> f.getEnumType().getValues().get(1);
            case MESSAGE -> filled(f.getMessageType(), depth + 1);
        };
    }
}
