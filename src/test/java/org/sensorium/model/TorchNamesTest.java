package org.sensorium.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TorchNamesTest {

    @Test
    void namesFollowPyTorchModulePaths() {
        assertEquals("trunk.blocks.0.norm1.weight", TorchNames.of("trunk.0.norm1.gain"));
        assertEquals("trunk.blocks.11.attn.qkv.bias", TorchNames.of("trunk.11.attn.qkv.bias"));
        assertEquals("trunk.blocks.2.mlp.fc2.weight", TorchNames.of("trunk.2.mlp.fc2.weight"));
        assertEquals("trunk.norm.weight", TorchNames.of("trunk.norm.gain"));
        assertEquals("trunk.norm.bias", TorchNames.of("trunk.norm.bias"));
        assertEquals("stems.video.proj.weight", TorchNames.of("stem.video.proj.weight"));
        assertEquals("stems.audio.proj.bias", TorchNames.of("stem.audio.wave.bias"));
        assertEquals("stems.text.embedding.weight", TorchNames.of("stem.text.embedding"));
        assertEquals("pos_embed.imu", TorchNames.of("pos.imu"));
        assertEquals("modality_embed.motion", TorchNames.of("modality.motion"));
        assertEquals("cls_token.audio", TorchNames.of("cls.audio"));
        assertEquals("heads.text.weight", TorchNames.of("head.text.weight"));
        assertEquals("text_pool.query", TorchNames.of("pool.text.query"));
        assertEquals("logit_scale", TorchNames.of("logit_scale"));
        assertThrows(IllegalArgumentException.class, () -> TorchNames.of("objective.clustering.prototypes"));
        assertThrows(IllegalArgumentException.class, () -> TorchNames.of("stem.video.conv.weight"));
    }

    @Test
    void everyEncoderParameterOfAModelHasItsOwnNameAndObjectivesAreLeftOut() {
        try (NDManager m = NDManager.newBaseManager();
                SensoriumModel model = new SensoriumModel(SensoriumModelTest.tiny("model.pool=cls"), m)) {
            model.params().normal("objective.test.head", 0.02f, 2, 2);
            Map<String, String> names = TorchNames.of(model.params());
            assertEquals(model.params().all().size() - 1, names.size());
            assertFalse(names.containsKey("objective.test.head"));
            assertEquals(names.size(), Map.copyOf(names).values().stream().distinct().count());
            assertTrue(names.containsValue("cls_token.video"));
        }
    }
}
