package dev.nabla.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** The PNG chart of a training run: loss per step and test accuracy per epoch, on two axes. */
final class TrainingChart {
    private TrainingChart() {
    }

    static void write(List<Double> losses, List<Double> accuracies, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title("MNIST training")
                .xAxisTitle("step").yAxisTitle("loss").build();
        List<Integer> steps = IntStream.range(0, losses.size()).boxed().toList();
        chart.addSeries("training loss", steps, losses).setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        if (!accuracies.isEmpty()) {
            int perEpoch = losses.size() / accuracies.size();
            List<Integer> epochEnds = IntStream.range(0, accuracies.size()).map(e -> (e + 1) * perEpoch - 1).boxed()
                    .toList();
            XYSeries acc = chart.addSeries("test accuracy", epochEnds, accuracies);
            acc.setYAxisGroup(1);
            chart.setYAxisGroupTitle(1, "accuracy");
        }
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
