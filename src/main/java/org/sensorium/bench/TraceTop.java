package org.sensorium.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sensorium.config.Json;

/**
 * The operators that took a traced step's time, from libtorch's profiler trace (Chrome trace JSON, complete events
 * "ph": "X" with ts and dur in microseconds, nested on each thread): an operator's self time is its duration less
 * its direct children's, so aten::linear's time shows up as the aten::mm and aten::add_ inside it.
 */
public final class TraceTop {
    private TraceTop() {}

    /** One operator: self milliseconds and calls per step, and the input shapes that took most of its time. */
    public record Op(String name, double selfMs, double calls, String topShapes) {}

    /** The operators, most self time first, and the time of the outermost ones (nothing encloses them), per step. */
    public record Trace(List<Op> ops, double outermostMs) {}

    /** Every operator of the trace, most self time first, divided by the steps traced. */
    public static Trace read(Path trace, int steps) throws IOException {
        record Event(String name, double ts, double dur, String shapes) {}
        Map<String, List<Event>> byThread = new HashMap<>();
        for (JsonNode e : Json.MAPPER.readTree(trace.toFile())) {
            if ("X".equals(e.path("ph").asText())) {
                byThread.computeIfAbsent(e.path("tid").asText(), k -> new ArrayList<>()).add(new Event(e.path("name").asText(),
                        e.path("ts").asDouble(), e.path("dur").asDouble(), e.path("shape").toString()));
            }
        }
        Map<String, Double> self = new HashMap<>();
        Map<String, Integer> calls = new HashMap<>();
        Map<String, Map<String, Double>> shapes = new HashMap<>();
        double outermost = 0;
        for (List<Event> events : byThread.values()) {
            events.sort(Comparator.comparingDouble(Event::ts).thenComparing(Comparator.comparingDouble(Event::dur).reversed()));
            List<Event> open = new ArrayList<>();     // the enclosing events, outermost first
            Map<Event, Double> own = new java.util.IdentityHashMap<>(); // equal events are still two
            for (Event e : events) {
                while (!open.isEmpty() && last(open).ts() + last(open).dur() <= e.ts()) {
                    open.remove(open.size() - 1);
                }
                own.put(e, e.dur());
                if (!open.isEmpty()) {
                    own.merge(last(open), -e.dur(), Double::sum);
                } else {
                    outermost += e.dur();
                }
                open.add(e);
            }
            own.forEach((e, us) -> {
                self.merge(e.name(), us, Double::sum);
                calls.merge(e.name(), 1, Integer::sum);
                shapes.computeIfAbsent(e.name(), k -> new HashMap<>()).merge(e.shapes(), us, Double::sum);
            });
        }
        List<Op> ops = new ArrayList<>();
        self.forEach((name, us) -> ops.add(new Op(name, us / 1000 / steps, calls.get(name) / (double) steps,
                shapes.get(name).entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey())));
        ops.sort(Comparator.comparingDouble(Op::selfMs).reversed());
        return new Trace(ops, outermost / 1000 / steps);
    }

    /**
     * The top n operators as a table (self ms per step, share of all operators' time, calls per step, top shapes), after
     * how much of the traced step's wall time the operators took: the rest is spent outside libtorch's operators (Java,
     * JNI, allocation, the profiler's own bookkeeping), the share that fewer native calls could win back.
     */
    public static String render(Trace trace, int n, double wallMsPerStep) {
        List<Op> ops = trace.ops();
        double total = ops.stream().mapToDouble(Op::selfMs).sum();
        StringBuilder sb = new StringBuilder(String.format("traced step: %.1f ms wall, %.1f ms in libtorch operators, %.1f%% outside them%n",
                wallMsPerStep, trace.outermostMs(), 100 * (1 - trace.outermostMs() / wallMsPerStep)));
        sb.append(String.format("libtorch operators by self time (%.1f ms a step in all):%n", total));
        sb.append(String.format("  %-42s %9s %7s %7s  %s%n", "operator", "ms/step", "share", "calls", "inputs taking most of it"));
        for (Op o : ops.subList(0, Math.min(n, ops.size()))) {
            String shapes = o.topShapes().length() > 60 ? o.topShapes().substring(0, 57) + "..." : o.topShapes();
            sb.append(String.format("  %-42s %9.2f %6.1f%% %7.0f  %s%n", o.name().length() > 42 ? o.name().substring(0, 42) : o.name(),
                    o.selfMs(), 100 * o.selfMs() / total, o.calls(), shapes));
        }
        return sb.toString();
    }

    private static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }
}
