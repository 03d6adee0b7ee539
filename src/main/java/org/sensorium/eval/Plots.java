package org.sensorium.eval;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's pictures, drawn with XChart into PNG bytes (headless: java.awt.headless=true). Every method
 * takes plain numbers; the caller has dropped non-finite values and checked that something is left to draw.
 */
final class Plots {
    /** Pixels of a plot; LEGEND more in width where the legend stands right of the plot. */
    static final int WIDTH = 760, HEIGHT = 420, LEGEND = 180;
    /** Above this many series a legend covers the plot: it is left out (the caption says so). */
    static final int MAX_LEGEND = 16;

    private Plots() {}

    /** One series of a line or scatter chart: x and y of the same length. */
    record Series(String name, double[] x, double[] y) {}

    /** Lines over steps (loss curves); logY draws the y axis logarithmic (every y must then be > 0). */
    static byte[] lines(String title, String xTitle, String yTitle, List<Series> series, boolean logY) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH + LEGEND).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(chart.getStyler(), series.size());
        legendRight(chart.getStyler());
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        for (Series s : series) {
            chart.addSeries(s.name(), s.x(), s.y()).setMarker(s.x().length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        }
        return png(chart);
    }

    /** Points coloured by series (the PCA picture: one series per label). */
    static byte[] scatter(String title, String xTitle, String yTitle, List<Series> series) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH + LEGEND).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(chart.getStyler(), series.size());
        legendRight(chart.getStyler());
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(7);
        for (Series s : series) {
            chart.addSeries(s.name(), s.x(), s.y());
        }
        return png(chart);
    }

    /** Grouped bars: one group per category (R@1, R@5, R@10), one bar colour per series (a direction). */
    static byte[] bars(String title, String yTitle, List<String> categories, Map<String, List<Double>> series, double yMax) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle).build();
        style(chart.getStyler(), series.size());
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(yMax);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFont(chart.getStyler().getAxisTickLabelsFont());
        chart.getStyler().setDecimalPattern("0.00");
        series.forEach((name, values) -> chart.addSeries(name, categories, values));
        return png(chart);
    }

    /**
     * A confusion matrix: rows = true label drawn top to bottom in the given order, columns = predicted label,
     * the count written in each cell.
     *
     * @param matrix (C, C) counts
     */
    static byte[] heatMap(String title, List<String> labels, double[][] matrix) throws IOException {
        int c = labels.size();
        int side = Math.max(HEIGHT, Math.min(900, 120 + 44 * c));
        HeatMapChart chart = new HeatMapChartBuilder().width(side + 140).height(side).title(title)
                .xAxisTitle("predicted").yAxisTitle("true").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setHeatMapValueDecimalPattern("#,##0.##");
        chart.getStyler().setRangeColors(new Color[] {new Color(247, 251, 255), new Color(107, 174, 214), new Color(8, 48, 107)});
        chart.getStyler().setValueFontColor(new Color(230, 85, 13)); // orange: readable on the palest and the darkest blue
        chart.getStyler().setPlotContentSize(1.0);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setXAxisLabelRotation(c > 6 ? 45 : 0);
        List<String> rowsTopDown = new ArrayList<>(labels);
        java.util.Collections.reverse(rowsTopDown);          // XChart's y axis grows upwards; row 0 belongs on top
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < c; t++) {
            for (int p = 0; p < c; p++) {
                cells.add(new Number[] {p, c - 1 - t, matrix[t][p]});
            }
        }
        chart.addSeries("counts", labels, rowsTopDown, cells);
        return png(chart);
    }

    private static void style(Styler s, int series) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setLegendVisible(series > 1 && series <= MAX_LEGEND);
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
    }

    /** Long names (loss terms, labels) fit a column beside the plot better than a row under it. */
    private static void legendRight(Styler s) {
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendLayout(Styler.LegendLayout.Vertical);
    }

    static byte[] png(Chart<?, ?> chart) throws IOException {
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }
}
