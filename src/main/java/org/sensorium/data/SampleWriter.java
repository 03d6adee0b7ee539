package org.sensorium.data;

import static org.sensorium.data.SampleRenderers.srt;
import static org.sensorium.data.SampleSetGenerator.SECONDS;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.sensorium.data.SampleRenderers.Imu;
import org.sensorium.data.SampleRenderers.Tone;
import org.sensorium.data.SampleRenderers.Video;
import org.sensorium.data.SampleSetGenerator.Part;
import org.sensorium.data.SampleSetGenerator.Recording;
import org.sensorium.data.SampleSetGenerator.Sample;

/**
 * One job of {@link SampleSetGenerator}: a sample's (or a long recording's) files under outDir/media, named by
 * its id, and its manifest line. The noise of every modality comes from the sample's own seed, split in a fixed
 * order (audio first, then IMU), so a file does not depend on which thread wrote it or on the other samples.
 */
final class SampleWriter {
    private SampleWriter() {}

    /**
     * Writes the sample's media, its clip drawn over a static scene (null: the plain grey field), and returns its
     * manifest line, which names the scene.
     */
    static String write(Path outDir, Sample s, SampleScenes.Scene scene) throws IOException {
        Path media = outDir.resolve("media");
        SplittableRandom noise = new SplittableRandom(s.noiseSeed());
        List<Part> parts = List.of(new Part(s, 0, SECONDS));
        float[] audio = s.hasAudio() ? Tone.of(s, SECONDS, noise.split()) : null;
        Video.write(media.resolve(s.id() + ".mp4"), parts, scene, audio);
        boolean grey = scene == null;
        if (s.hasSubtitles()) {
            Files.writeString(media.resolve(s.id() + ".srt"), srt(List.of(caption(s, s.template(), grey)), parts), StandardCharsets.UTF_8);
        }
        if (s.hasImu()) {
            Files.writeString(media.resolve(s.id() + ".csv"), Imu.csv(parts, noise.split()), StandardCharsets.UTF_8);
        }
        return manifestLine(s, scene);
    }

    /** Writes a long recording's media (every modality) and returns its manifest line. */
    static String writeLong(Path outDir, Recording r) throws IOException {
        Path media = outDir.resolve("media");
        SplittableRandom noise = new SplittableRandom(r.first().noiseSeed());
        List<float[]> tones = new ArrayList<>();
        int n = 0;
        for (Part p : r.parts()) {
            tones.add(Tone.of(p.s(), p.seconds(), noise.split()));
            n += tones.get(tones.size() - 1).length;
        }
        float[] audio = new float[n];
        int at = 0;
        for (float[] t : tones) {
            System.arraycopy(t, 0, audio, at, t.length);
            at += t.length;
        }
        Video.write(media.resolve(r.id() + ".mp4"), r.parts(), audio);
        List<String> cues = r.parts().stream().map(p -> caption(p.s(), r.first().template())).toList();
        Files.writeString(media.resolve(r.id() + ".srt"), srt(cues, r.parts()), StandardCharsets.UTF_8);
        Files.writeString(media.resolve(r.id() + ".csv"), Imu.csv(r.parts(), noise.split()), StandardCharsets.UTF_8);

        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("id", r.id());
        o.put("split", r.index() % 5 == 4 ? "val" : "train");
        o.putObject("video").put("uri", "media/" + r.id() + ".mp4");
        o.putObject("audio").put("uri", "media/" + r.id() + ".mp4");
        o.putObject("text").put("uri", "media/" + r.id() + ".srt");
        o.putObject("imu").put("uri", "media/" + r.id() + ".csv");
        StringBuilder caption = new StringBuilder(cues.get(0));
        for (Part p : r.parts().subList(1, r.parts().size())) {
            caption.append(", then ").append(String.format(Locale.ROOT, p.s().motion().phrase, p.s().fast() ? "quickly" : "slowly"));
        }
        o.putArray("captions").add(caption.toString());
        var segments = o.putArray("segments");
        for (Part p : r.parts()) {
            segments.addObject().put("start", p.from()).put("end", p.end()).put("label", p.s().motion().label);
        }
        ObjectNode a = o.putObject("attributes");
        a.put("color", r.first().colour().name().toLowerCase(Locale.ROOT));
        a.put("shape", r.first().shape());
        return o.toString();
    }

    private static String manifestLine(Sample s, SampleScenes.Scene scene) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        o.put("id", s.id());
        o.put("split", s.index() % 5 == 4 ? "val" : "train");
        o.put("label", s.motion().label);
        o.putObject("video").put("uri", "media/" + s.id() + ".mp4");
        if (s.hasAudio()) {
            o.putObject("audio").put("uri", "media/" + s.id() + ".mp4");
        }
        if (s.hasSubtitles()) {
            o.putObject("text").put("uri", "media/" + s.id() + ".srt");
        }
        if (s.hasImu()) {
            o.putObject("imu").put("uri", "media/" + s.id() + ".csv");
        }
        boolean grey = scene == null;
        o.putArray("captions").add(caption(s, s.template(), grey)).add(caption(s, (s.template() + 1) % 3, grey));
        ObjectNode a = o.putObject("attributes");
        a.put("color", s.colour().name().toLowerCase(Locale.ROOT));
        a.put("shape", s.shape());
        a.put("speed", s.speed());
        if (scene != null) {
            a.put("scene", scene.name());
        }
        return o.toString();
    }

    /** Caption template t in {0, 1, 2}; always names colour, shape, motion and speed. */
    static String caption(Sample s, int template) {
        return caption(s, template, true);
    }

    /** The same for a clip on the grey field or (grey false) over a static scene, which template 2 then names. */
    static String caption(Sample s, int template, boolean grey) {
        String colour = s.colour().name().toLowerCase(Locale.ROOT);
        String what = String.format(Locale.ROOT, s.motion().phrase, s.fast() ? "quickly" : "slowly");
        return switch (template) {
            case 0 -> "a " + colour + " " + s.shape() + " " + what;
            case 1 -> "the " + colour + " " + s.shape() + " " + what;
            default -> "on a " + (grey ? "grey" : "patterned") + " background, a " + colour + " " + s.shape() + " " + what;
        };
    }
}
