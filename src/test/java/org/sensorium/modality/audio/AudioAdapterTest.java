package org.sensorium.modality.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Arrays;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sensorium.config.ConfigException;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Item;
import org.sensorium.modality.Fixtures;
import org.sensorium.config.Modality;
import org.sensorium.config.ModalitySpec;

class AudioAdapterTest {
    private final AudioAdapter audio = new AudioAdapter(Fixtures.AUDIO, 2.0);

    @Test
    void filterbankCentresIncreaseAndStayBelowFmax() {
        double[] c = audio.filterbank().centresHz();
        assertEquals(64, c.length);
        for (int b = 1; b < c.length; b++) {
            assertTrue(c[b] > c[b - 1], "band " + b);
        }
        assertTrue(c[0] > 0);
        assertTrue(c[63] < 8000.0);
        assertEquals(8000.0, audio.filterbank().upperHz(63), 1e-6);
        assertEquals(2595 * Math.log10(1 + 1000 / 700.0), MelFilterbank.hzToMel(1000), 1e-9);
        assertEquals(1000, MelFilterbank.melToHz(MelFilterbank.hzToMel(1000)), 1e-9);
    }

    @Test
    void toneOf1kHzPeaksInTheBandContainingIt() {
        float[] wave = new float[16000];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = (float) Math.sin(2 * Math.PI * 1000 * i / 16000.0);
        }
        int frames = Fixtures.AUDIO.frames(1.0); // (16000 - 400) / 160 + 1 = 98 -> 96
        assertEquals(96, frames);
        float[] s = audio.logMel(wave, frames);
        int peak = argmaxBand(s, 10);
        assertTrue(audio.filterbank().lowerHz(peak) < 1000 && 1000 < audio.filterbank().upperHz(peak), "peak band " + peak);
        double[] c = audio.filterbank().centresHz();
        assertTrue(Math.abs(c[peak] - 1000) < (c[peak + 1] - c[peak - 1]) / 2, "centre " + c[peak]);
    }

    @Test
    void silenceGivesTheFloor() {
        float[] s = audio.logMel(new float[16000], 4);
        float floor = (float) ((Math.log(1e-6) - -6.0) / 4.0); // -1.9539
        for (float v : s) {
            assertEquals(floor, v, 1e-6);
        }
    }

    @Test
    void decodesAacStereo48kFromMp4() throws BadInputException {
        Item a = audio.load(Fixtures.entry(Modality.AUDIO, Fixtures.shared("video/cup.mp4")).recording(), new Clip(1.0, 2.0, false, 3));
        assertArrayEquals(new long[] {192, 64}, a.shape());
        assertFinite(a.values());
        assertTrue(max(a.values()) > -1.5, "cup.mp4 at 1 s is not silent");
    }

    @Test
    void decodesWavAndPadsPastTheEnd() throws BadInputException {
        // lena_singing.wav is 12.3 s: from 11.5 s on, 0.8 s of singing then zeros (the floor)
        Item a = audio.load(Fixtures.entry(Modality.AUDIO, Fixtures.shared("audio/lena_singing.wav")).recording(),
                new Clip(11.5, 2.0, false, 3));
        assertArrayEquals(audio.inputShape(), a.shape());
        assertFinite(a.values());
        float floor = (float) ((Math.log(1e-6) + 6.0) / 4.0);
        float[] lastFrame = Arrays.copyOfRange(a.values(), 191 * 64, 192 * 64);
        for (float v : lastFrame) {
            assertEquals(floor, v, 1e-6);
        }
        Item b = audio.load(Fixtures.entry(Modality.AUDIO, Fixtures.shared("audio/lena_singing.wav")).recording(),
                new Clip(2.0, 2.0, false, 3));
        assertFalse(Arrays.equals(a.values(), b.values()));
    }

    @Test
    void waveformInputIsTheDecodedSamples(@TempDir Path dir) throws Exception {
        // a 16 kHz 16-bit WAV of 0.5 sin(2 pi 1000 t): sample n is 0.5 sin(pi n / 8), exact to 1/32768
        short[] pcm = new short[16000];
        for (int n = 0; n < pcm.length; n++) {
            pcm[n] = (short) Math.round(16384 * Math.sin(Math.PI * n / 8));
        }
        Path wav = dir.resolve("tone.wav");
        byte[] bytes = new byte[pcm.length * 2];
        for (int n = 0; n < pcm.length; n++) {
            bytes[2 * n] = (byte) pcm[n];
            bytes[2 * n + 1] = (byte) (pcm[n] >> 8);
        }
        AudioFormat format = new AudioFormat(16000, 16, 1, true, false);
        AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(bytes), format, pcm.length), AudioFileFormat.Type.WAVE, wav.toFile());

        ModalitySpec.Audio a = Fixtures.AUDIO;
        ModalitySpec.Audio spec = new ModalitySpec.Audio(a.sampleRate(), "waveform", a.melBins(), a.windowMs(), a.hopMs(),
                a.fmin(), a.fmax(), a.patch(), a.mean(), a.std(), 128);
        AudioAdapter wave = new AudioAdapter(spec, 1.5);
        // 1.5 s = 24000 samples = 187.5 patches of 128 -> 187 patches, 23936 samples, 187 tokens
        assertArrayEquals(new long[] {23936}, wave.inputShape());
        assertEquals(187, spec.tokens(1.5));
        Item item = wave.load(Fixtures.entry(Modality.AUDIO, wav).recording(), new Clip(0.25, 1.5, false, 1));
        assertArrayEquals(new long[] {23936}, item.shape());
        for (int i = 0; i < 12000; i++) { // from 0.25 s = sample 4000; the file ends at 1.0 s = sample 12000 of the clip
            assertEquals(pcm[4000 + i] / 32768f, item.values()[i], 1e-6f, "sample " + i);
        }
        for (int i = 12000; i < 23936; i++) {
            assertEquals(0f, item.values()[i], "past the end " + i);
        }
        ConfigException e = assertThrows(ConfigException.class, () -> new ModalitySpec.Audio(a.sampleRate(), "raw",
                a.melBins(), a.windowMs(), a.hopMs(), a.fmin(), a.fmax(), a.patch(), a.mean(), a.std(), 128));
        assertTrue(e.getMessage().contains("modalities.audio.input"), e.getMessage());
    }

    @Test
    void videoWithoutSoundIsBadInput() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> audio.load(Fixtures.entry(Modality.AUDIO, Fixtures.shared("video/vtest.avi")).recording(), new Clip(0, 2, false, 1)));
        assertTrue(e.getMessage().startsWith("manifest.jsonl:7 (id=t1): "), e.getMessage());
        assertTrue(e.getMessage().endsWith("vtest.avi: no audio track"), e.getMessage());
    }

    private static int argmaxBand(float[] s, int frame) {
        int best = 0;
        for (int b = 1; b < 64; b++) {
            if (s[frame * 64 + b] > s[frame * 64 + best]) {
                best = b;
            }
        }
        return best;
    }

    private static float max(float[] v) {
        float m = Float.NEGATIVE_INFINITY;
        for (float x : v) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static void assertFinite(float[] v) {
        for (float x : v) {
            assertTrue(Float.isFinite(x));
        }
    }
}
