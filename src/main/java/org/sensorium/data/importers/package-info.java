/**
 * Importers of standard datasets ({@code sensorium data import NAME}): each reads one dataset's published
 * annotation format and hands samples to a {@link org.sensorium.data.importers.Sink}, which finds the media under
 * the given root, lists what is missing and writes manifest lines (data-manifests/README.md) and the class names in
 * eval/labels form. {@link org.sensorium.data.importers.Dataset} is the registry (an enum switch),
 * {@link org.sensorium.data.importers.Importer} runs one and writes its files.
 *
 * <p>One class per format family: {@code Kinetics}, {@code SplitLists} (UCF101, HMDB51), {@code Esc50},
 * {@code Captions} (WebVid, HowTo100M), {@code Ego4dImu}, {@code Segments} (Charades, Breakfast); {@code Csv}
 * reads the CSV files (quoted fields with commas and line breaks) they share. Each class says where its format
 * description comes from.
 *
 * <p>Imports: config and data (the manifest reader checks what was written, and the segment record). Nothing here
 * decodes media: a file is found or missing; {@code data validate} decodes.
 */
package org.sensorium.data.importers;
