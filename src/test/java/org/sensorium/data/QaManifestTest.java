package org.sensorium.data;

import org.sensorium.modality.Item;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QaManifestTest {

    @Test
    void readsGoodLinesAndSkipsEachBadOneWithItsLineAndKey(@TempDir Path dir) throws Exception {
        String good = "{\"id\": \"q1\", \"split\": \"val\", \"question\": \"which way?\", \"answers\": [\"left\", \"up\", \"down\"],"
                + " \"correct\": 1, \"video\": {\"uri\": \"media/a.mp4\", \"start\": 1.5, \"end\": 3.5}, \"subtitles\": \"media/a.srt\"}";
        List<String> lines = List.of(
                good,                                                                                             // 1 ok
                "{\"id\": \"q2\", \"question\": \"what?\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 0, \"video\": {\"uri\": \"/x/b.mp4\"}}", // 2 ok, no subs
                "",                                                                                               // 3 blank
                "{\"id\": \"q3\", \"question\": \"?\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 3, \"video\": {\"uri\": \"b.mp4\"}}",  // 4
                "{\"id\": \"q4\", \"question\": \"?\", \"answers\": [\"a\", \"b\"], \"correct\": 0, \"video\": {\"uri\": \"b.mp4\"}}",        // 5 K=2
                "{\"id\": \"q1\", \"question\": \"?\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 0, \"video\": {\"uri\": \"b.mp4\"}}",  // 6 dup
                "{\"id\": \"q5\", \"question\": \"?\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 0, \"video\": {\"uri\": \"b.mp4\", \"start\": 2, \"end\": 1}}", // 7
                "{\"id\": \"q6\", \"question\": \"?\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 0, \"video\": {\"uri\": \"b.mp4\"}, \"ts\": 1}", // 8
                "{\"id\": \"q7\", \"answers\": [\"a\", \"b\", \"c\"], \"correct\": 0, \"video\": {\"uri\": \"b.mp4\"}}",                        // 9
                "not json");                                                                                      // 10
        Path qa = Files.write(dir.resolve("qa.jsonl"), lines);
        QaManifest.Read r = QaManifest.read(qa);
        assertEquals(2, r.items().size());
        QaManifest.Item q1 = r.items().get(0);
        assertEquals("val", q1.split());
        assertEquals(List.of("left", "up", "down"), q1.answers());
        assertEquals(1, q1.correct());
        assertEquals(dir.resolve("media/a.mp4"), q1.video().path());
        assertEquals(1.5, q1.video().start());
        assertEquals(3.5, q1.video().end());
        assertEquals(dir.resolve("media/a.srt"), q1.subtitles());
        assertEquals("train", r.items().get(1).split());
        assertNull(r.items().get(1).subtitles());
        assertEquals(Double.NaN, r.items().get(1).video().end());
        assertEquals(7, r.skipped());
        assertEquals("qa.jsonl:4: key 'correct': 3 is not an index into the 3 answers", r.errors().get(4));
        assertEquals("qa.jsonl:5: key 'answers': 2 answers, but the file's first item (line 1) has 3", r.errors().get(5));
        assertEquals("qa.jsonl:6: key 'id': duplicate id 'q1' (first on line 1)", r.errors().get(6));
        assertEquals("qa.jsonl:7: key 'video.end': 1.0 must be > start 2.0", r.errors().get(7));
        assertEquals("qa.jsonl:8: key 'ts': unknown key (expected one of [answers, correct, id, question, split, subtitles, video])",
                r.errors().get(8));
        assertEquals("qa.jsonl:9: key 'question': missing", r.errors().get(9));
        assertEquals(true, r.errors().get(10).startsWith("qa.jsonl:10: not valid JSON"));
    }
}
