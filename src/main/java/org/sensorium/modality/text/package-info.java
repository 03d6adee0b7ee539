/**
 * Text: {@link org.sensorium.modality.text.TextAdapter} turns subtitle cues
 * ({@link org.sensorium.modality.text.Subtitles}, SRT and WebVTT) or captions into WordPiece ids through a
 * HuggingFace tokenizer.json, optionally as a bag of texts per clip (MIL-NCE);
 * {@link org.sensorium.modality.text.WordPieceTrainer} learns such a vocabulary, splitting words as
 * {@link org.sensorium.modality.text.BertPreTokenizer} does, so training and lookup see the same words.
 *
 * <p>Imports: config and modality.
 *
 * <p>Shape letters (the model package's legend): L text length, K texts in a bag. Outputs: (L), or (K, L).
 */
package org.sensorium.modality.text;
