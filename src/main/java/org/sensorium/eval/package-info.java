/**
 * Evaluation on frozen embeddings: cross-modal {@link org.sensorium.eval.Retrieval}, clustering scores
 * ({@link org.sensorium.eval.ClusterMetrics}: NMI as XDC reports it, purity, chance NMI), a
 * {@link org.sensorium.eval.LinearProbe} (CLIP's protocol), {@link org.sensorium.eval.Classification} (zero-shot
 * prompts as in CLIP, kNN, probe scores), {@link org.sensorium.eval.Segmentation} scores and
 * {@link org.sensorium.eval.TemporalSegmentation} of long recordings (temporal OT, Kumar et al. 2022),
 * {@link org.sensorium.eval.Pca}, evaluation suites ({@link org.sensorium.eval.Suite}), and the self-contained
 * HTML {@link org.sensorium.eval.Report} of a run.
 *
 * <p>Retrieval ranks, kNN neighbours and zero-shot scores compare every pair through float32 matrix products in
 * libtorch, a block at a time (BlockedDots); whatever lies within the float32 error bound is decided by the scalar
 * dot, so ranks, ties and neighbours are those of the scalar loops, which the tests keep to prove it.
 *
 * <p>Imports: config, modality, data and model. Metrics read embeddings or a model's output; nothing here
 * updates the model.
 *
 * <p>Shape letters (the model package's legend): b batch, E embedding, K prototypes (or equal parts of the
 * segmentation baseline); and for plain arrays: n samples, C classes, N rows and D columns of a PCA, k components.
 */
package org.sensorium.eval;
