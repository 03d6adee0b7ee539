package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.sensorium.modality.Fixtures;
import org.sensorium.modality.text.TextAdapter;

/** eval/labels/sample-paraphrase.txt measures transfer only if its prompts share no content word piece with the generator's text. */
class SampleParaphraseTest {
    private static final Set<String> FUNCTION_WORDS = Set.of("[CLS]", "[SEP]", "a", "an", "the", "to", "from", "and", "on", "in",
            "of", "like", "way", "round", "against");

    @Test
    void paraphrasePromptsShareNoContentWordPieceWithTheGeneratorsCaptions() {
        try (TextAdapter text = new TextAdapter(Fixtures.TEXT)) {
            Set<String> generator = new TreeSet<>();
            for (SampleSetGenerator.Sample s : SampleSetGenerator.plan(640, 7)) {
                for (int t = 0; t < 3; t++) { // every caption template (the subtitles use one of them)
                    generator.addAll(text.tokens(SampleWriter.caption(s, t)));
                }
            }
            LabelCaptions.Classes classes = LabelCaptions.classes(Path.of("eval/labels/sample-paraphrase.txt"), "labels");
            List<String> templates = LabelCaptions.templates(Path.of("eval/templates/sample-paraphrase.txt"), "templates");
            assertEquals(List.of("left", "right", "up", "down", "clockwise circle", "counterclockwise circle", "shake", "bounce"),
                    classes.labels());
            Set<String> shared = new TreeSet<>();
            for (String phrase : classes.phrases()) {
                for (String template : templates) {
                    for (String piece : text.tokens(template.replace("{}", phrase))) {
                        if (generator.contains(piece) && !FUNCTION_WORDS.contains(piece)) {
                            shared.add(piece);
                        }
                    }
                }
            }
            assertEquals(Set.of(), shared);
        }
    }
}
