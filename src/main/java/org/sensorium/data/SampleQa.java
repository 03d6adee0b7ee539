package org.sensorium.data;

import static org.sensorium.data.SampleSetGenerator.QA_ANSWERS;
import static org.sensorium.data.SampleSetGenerator.SECONDS;
import static org.sensorium.data.SampleSetGenerator.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.sensorium.data.SampleSetGenerator.Colour;
import org.sensorium.data.SampleSetGenerator.Motion;
import org.sensorium.data.SampleSetGenerator.Sample;

/**
 * The sample set's multiple-choice QA items ({@link SampleSetGenerator#writeQa}): questions whose answer is in
 * the clip's plan, so a model that sees the video can get them all right and a blind guess gets 1 in
 * {@value SampleSetGenerator#QA_ANSWERS}.
 */
final class SampleQa {
    private SampleQa() {}

    /** See {@link SampleSetGenerator#writeQa}. */
    static Path write(Path outDir, int samples, long seed) throws IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder out = new StringBuilder();
        for (Sample s : plan(samples, seed)) {
            List<String> ways = java.util.Arrays.stream(Motion.values()).map(m -> m.label).toList();
            List<String> objects = new ArrayList<>();
            for (Colour c : Colour.values()) {
                for (String shape : List.of("circle", "square")) {
                    objects.add("the " + c.name().toLowerCase(Locale.ROOT) + " " + shape);
                }
            }
            String object = "the " + s.colour().name().toLowerCase(Locale.ROOT) + " " + s.shape();
            out.append(qaLine(json, s, "way", "which way does " + object + " move?", s.motion().label, ways,
                    new SplittableRandom(Loader.mix(seed, s.index(), 1)))).append('\n');
            out.append(qaLine(json, s, "what", "what moved?", object, objects,
                    new SplittableRandom(Loader.mix(seed, s.index(), 2)))).append('\n');
        }
        Path file = outDir.resolve("qa.jsonl");
        Path tmp = outDir.resolve(".qa.jsonl.tmp"); // mode from the umask (createTempFile: 0600)
        Files.writeString(tmp, out, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static String qaLine(ObjectMapper json, Sample s, String kind, String question, String right, List<String> values,
            SplittableRandom r) {
        List<String> others = new ArrayList<>(values);
        others.remove(right);
        List<String> answers = new ArrayList<>(List.of(right));
        for (int k = 1; k < QA_ANSWERS; k++) {
            answers.add(others.remove(r.nextInt(others.size())));
        }
        for (int i = answers.size() - 1; i > 0; i--) { // Fisher-Yates: the right answer lands anywhere
            int j = r.nextInt(i + 1);
            String t = answers.get(i);
            answers.set(i, answers.get(j));
            answers.set(j, t);
        }
        ObjectNode o = json.createObjectNode();
        o.put("id", s.id() + "-" + kind);
        o.put("split", s.index() % 5 == 4 ? "val" : "train");
        o.put("question", question);
        answers.forEach(o.putArray("answers")::add);
        o.put("correct", answers.indexOf(right));
        o.putObject("video").put("uri", "media/" + s.id() + ".mp4").put("start", 0.0).put("end", SECONDS);
        if (s.hasSubtitles()) {
            o.put("subtitles", "media/" + s.id() + ".srt");
        }
        return o.toString();
    }
}
