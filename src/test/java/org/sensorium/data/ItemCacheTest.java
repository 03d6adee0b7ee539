package org.sensorium.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.sensorium.config.Modality;
import org.sensorium.modality.BadInputException;
import org.sensorium.modality.Clip;
import org.sensorium.modality.Fixtures;
import org.sensorium.modality.Item;
import org.sensorium.modality.ModalityAdapter;
import org.sensorium.modality.Recording;
import org.sensorium.modality.audio.AudioAdapter;
import org.sensorium.modality.video.VideoAdapter;

/** data.cache_mb: real decodes of a shared fixture, kept only for adapters that draw nothing at random. */
class ItemCacheTest {
    private static final Recording CUP = Fixtures.entry(Modality.AUDIO, Fixtures.shared("video/cup.mp4")).recording();

    @Test
    void aRepeatedClipIsAnsweredFromMemoryWithTheSameValues() throws Exception {
        AudioAdapter plain = new AudioAdapter(Fixtures.AUDIO, 2.0);
        ItemCache cache = new ItemCache(64);
        ModalityAdapter audio = cache.wrap(plain);
        Item first = audio.load(CUP, new Clip(1.0, 2.0, true, 3));
        Item again = audio.load(CUP, new Clip(1.0, 2.0, true, 99)); // another seed: audio draws nothing from it
        Item other = audio.load(CUP, new Clip(0.5, 2.0, true, 3));  // another span: decoded
        assertSame(first, again);
        assertNotSame(first, other);
        assertArrayEquals(plain.load(CUP, new Clip(1.0, 2.0, true, 3)).values(), first.values(), 0f);
        // (F, M) = (192, 64): 200 hops of 10 ms in 2 s, rounded down to a multiple of the 16-frame patch; 4 bytes
        // a float, + 2 shape entries of 8 bytes: 192 * 64 * 4 + 16 = 49,168 bytes per item
        assertEquals(4L * 192 * 64 + 16, ItemCache.sizeOf(first));
        assertEquals(new ItemCache.Stats(1, 2, 2, 2 * 49_168L), cache.stats());
    }

    @Test
    void theBudgetStopsKeepingAndZeroKeepsNothing() throws Exception {
        AudioAdapter plain = new AudioAdapter(Fixtures.AUDIO, 2.0);
        assertSame(plain, new ItemCache(0).wrap(plain));
        ItemCache small = new ItemCache(0.06); // 62,914 bytes: room for one item of 49,168, not two
        ModalityAdapter audio = small.wrap(plain);
        audio.load(CUP, new Clip(0.0, 2.0, true, 1));
        audio.load(CUP, new Clip(0.5, 2.0, true, 1));
        audio.load(CUP, new Clip(0.5, 2.0, true, 1)); // not kept: decoded again
        audio.load(CUP, new Clip(0.0, 2.0, true, 1)); // kept
        assertEquals(new ItemCache.Stats(1, 3, 1, 49_168L), small.stats());
    }

    @Test
    void adaptersThatDrawFromTheSeedAreNotWrappedAndFailuresAreNotKept() {
        VideoAdapter video = new VideoAdapter(Fixtures.VIDEO, 2.0); // random crops, brightness, contrast
        ItemCache cache = new ItemCache(64);
        assertSame(video, cache.wrap(video));
        ModalityAdapter audio = cache.wrap(new AudioAdapter(Fixtures.AUDIO, 2.0));
        Recording silent = Fixtures.entry(Modality.AUDIO, Fixtures.shared("video/vtest.avi")).recording(); // no audio track
        assertThrows(BadInputException.class, () -> audio.load(silent, new Clip(0, 2, false, 1)));
        assertThrows(BadInputException.class, () -> audio.load(silent, new Clip(0, 2, false, 1)));
        assertEquals(new ItemCache.Stats(0, 2, 0, 0), cache.stats());
    }
}
