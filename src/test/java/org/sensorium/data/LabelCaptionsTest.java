package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;

class LabelCaptionsTest {

    @Test
    void labelAndTemplateFiles(@TempDir Path dir) throws Exception {
        Path labels = Files.writeString(dir.resolve("l.txt"), "# motions\nleft | moves to the left\n\nup\n");
        LabelCaptions.Classes c = LabelCaptions.classes(labels, "k");
        assertEquals(List.of("left", "up"), c.labels());
        assertEquals(List.of("moves to the left", "up"), c.phrases());
        Path dup = Files.writeString(dir.resolve("d.txt"), "left\nup\nleft\n");
        ConfigException e = assertThrows(ConfigException.class, () -> LabelCaptions.classes(dup, "k"));
        assertTrue(e.getMessage().startsWith(dup + ":3:"), e.getMessage());
        Path t = Files.writeString(dir.resolve("t.txt"), "a video of {}.\na photo\n");
        e = assertThrows(ConfigException.class, () -> LabelCaptions.templates(t, "k"));
        assertTrue(e.getMessage().startsWith(t + ":2:") && e.getMessage().contains("exactly one {}"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> LabelCaptions.classes(dir.resolve("absent.txt"), "data.label_captions"));
        assertTrue(e.getMessage().contains("data.label_captions") && e.getMessage().contains("absent.txt"), e.getMessage());
    }

    @Test
    void listedLabelsGetCaptionsAndUnlistedTrainingSamplesAreLeftOut(@TempDir Path dir) throws Exception {
        Path labels = Files.writeString(dir.resolve("seen.txt"), "Walk | walking\nClimb_stairs | climbing stairs\n");
        Path templates = Files.writeString(dir.resolve("t.txt"), "a person {}\nsomeone is {} now\n");
        LabelCaptions lc = LabelCaptions.read(labels, templates);
        List<ManifestEntry> all = List.of(
                entry("a", "train", "Walk", List.of()),
                entry("b", "train", "Comb_hair", List.of()),       // unseen: left out of training
                entry("c", "test", "Comb_hair", List.of()),        // held out: kept, no captions
                entry("d", "test", "Climb_stairs", List.of("own caption")),
                entry("e", "train", null, List.of()));             // no label: left out
        LabelCaptions.Applied applied = lc.apply(all);
        assertEquals(List.of("a", "c", "d"), applied.entries().stream().map(ManifestEntry::id).toList());
        assertEquals(List.of("a person walking", "someone is walking now"), applied.entries().get(0).captions());
        assertEquals(List.of(), applied.entries().get(1).captions());
        assertEquals(List.of("own caption", "a person climbing stairs", "someone is climbing stairs now"),
                applied.entries().get(2).captions());
        assertEquals(Map.of("Comb_hair", 1, "(no label)", 1), applied.leftOut());
        // no template file: the phrase is the caption
        assertEquals(List.of("walking"), LabelCaptions.read(labels, null).apply(all).entries().get(0).captions());
        // a label file that names no training sample's label would train on nothing: an error, not an empty run
        Path none = Files.writeString(dir.resolve("none.txt"), "Run | running\nSwim | swimming\n");
        ConfigException e = assertThrows(ConfigException.class, () -> LabelCaptions.read(none, null).apply(all));
        assertTrue(e.getMessage().contains("data.label_captions") && e.getMessage().contains("none.txt"), e.getMessage());
    }

    private static ManifestEntry entry(String id, String split, String label, List<String> captions) {
        return new ManifestEntry(id, split, label, Map.of(), captions, Path.of("m.jsonl"), 1);
    }
}
