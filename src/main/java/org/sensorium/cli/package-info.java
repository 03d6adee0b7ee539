/**
 * The command line: picocli commands ({@link org.sensorium.cli.Main} and the data, task, tokenizer and
 * distributed commands), the plain-text {@link org.sensorium.cli.Tables} they print, and
 * {@link org.sensorium.cli.GroupRun}, what a launcher needs before a worker group starts. Commands parse, run a
 * job and print; the work is in the floors below. The Spark launcher lives in cli.spark.
 *
 * <p>Imports: any floor below it. Nobody imports cli except cli.spark.
 *
 * <p>Shape letters: none.
 */
package org.sensorium.cli;
