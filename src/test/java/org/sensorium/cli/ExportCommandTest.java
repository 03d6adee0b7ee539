package org.sensorium.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sensorium export` end to end on a tiny run: the folder, the model card's held-out table, and exit code 2 on bad input. */
class ExportCommandTest {

    @Test
    void exportsARunAndRefusesBadInputWithOneLine(@TempDir Path dir) throws Exception {
        Object[] r = MainTest.cli(MainTest.tinyArgs(dir, "--set", "train.steps=2"));
        assertEquals(0, r[0], (String) r[2]);
        Path run = dir.resolve("runs/e2e"), out = dir.resolve("export");

        Object[] e = MainTest.cli(List.of("export", "--checkpoint", run.toString(), "--out", out.toString()));
        assertEquals(0, e[0], (String) e[2]);
        assertTrue(((String) e[1]).contains("step 2") && ((String) e[1]).contains("model.safetensors"), (String) e[1]);
        for (String f : List.of("model.safetensors", "config.json", "sensorium-config.yaml", "README.md")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("| video->text | 8 |") && card.contains("40 samples"), card);

        Object[] again = MainTest.cli(List.of("export", "--checkpoint", run.toString(), "--out", out.toString()));
        assertOneLineError(again, "error: --out: " + out + " is not empty");
        assertEquals(0, MainTest.cli(List.of("export", "--checkpoint", run.toString(), "--out", out.toString(), "--force"))[0]);

        assertOneLineError(MainTest.cli(List.of("export", "--checkpoint", dir.resolve("none").toString(), "--out",
                dir.resolve("x").toString())), "error: --checkpoint: ");
        Path ndlist = run.resolve("checkpoints/step-0000002/model.ndlist");
        byte[] all = Files.readAllBytes(ndlist);
        Files.write(ndlist, Arrays.copyOf(all, 100));
        assertOneLineError(MainTest.cli(List.of("export", "--checkpoint", run.toString(), "--out", dir.resolve("x").toString())),
                "error: " + ndlist + ": cannot read");
        assertFalse(Files.exists(dir.resolve("x")));
    }

    private static void assertOneLineError(Object[] r, String start) {
        assertEquals(2, r[0], (String) r[2]);
        String err = (String) r[2];
        assertEquals(1, err.lines().filter(l -> !l.isBlank()).count(), err);
        assertTrue(err.startsWith(start), err);
    }
}
