using MannLab.Runs;

namespace MannLab.Drawing.Tests;

/// <summary>Line charts as the pages get them (<see cref="Charts.Svg"/> of <see cref="Charts.Lines"/>), read back as XML.</summary>
public class ChartTests
{
    private static readonly Series[] Known =
    [
        new("1st", [0, 100, 200], [0.30, 0.55, 0.70]),
        new("2nd", [0, 100, 200, 300], [0.35, 0.80, 0.90, 0.95]),
        new("10th", [50, 150, 250, 350, 450], [0.20, 0.25, 0.60, 0.85, 0.99]),
    ];

    [Theory]
    [InlineData("short")]
    [InlineData("long")]
    public void A_legend_of_long_names_goes_below_the_data_so_the_data_keeps_most_of_the_width(string names)
    {
        var named = Known.Select(s => s with { Name = names == "short" ? s.Name : $"table2-15way model=mann[0.99 per-head add-vector] seed=1 ({s.Name})" }).ToArray();
        var chart = ChartSvg.Parse(Charts.Svg(Charts.Lines("Held-out accuracy", "episodes", "accuracy", named, (0, 1)), 760, 380));

        chart.Legend.Select(e => e.Name).Should().Equal(named.Select(s => s.Name));
        var xs = chart.Lines.SelectMany(l => l.Points).Select(p => p.X).ToList();
        (xs.Max() - xs.Min()).Should().BeGreaterThan(0.6 * 760, "the data spans most of the chart whatever the legend holds");
    }

    [Fact]
    public void A_line_chart_draws_each_series_as_one_path_through_its_points_named_in_the_legend()
    {
        var chart = ChartSvg.Parse(Charts.Svg(Charts.Lines("Held-out accuracy by sight", "episodes", "accuracy", Known, (0, 1)), 560, 340));

        chart.Texts.Should().Contain(["Held-out accuracy by sight", "episodes", "accuracy"]);
        chart.Legend.Select(e => e.Name).Should().Equal("1st", "2nd", "10th");
        chart.Legend.Select(e => e.Stroke).Should().OnlyHaveUniqueItems("each series has its own colour");
        chart.Lines.Should().HaveCount(Known.Length, "one line per series, nothing else clipped to the data area");
        foreach (var s in Known)
        {
            var line = chart.LineOf(s.Name);
            line.Segments.Should().Be(1, s.Name);
            line.Points.Should().HaveCount(s.X.Count, s.Name);
            line.Markers.Should().Be(s.X.Count, $"{s.Name} has few points, so each gets a marker");
            line.Points.Select(p => p.X).Should().BeInAscendingOrder(s.Name).And.OnlyHaveUniqueItems(s.Name);
        }

        // One mapping per axis places every point of every series: the paths go through the data.
        var pairs = Known.SelectMany(s => s.X.Zip(s.Y, chart.LineOf(s.Name).Points)).ToList();
        var x = ChartSvg.Fit([.. pairs.Select(p => (p.First, p.Third.X))]);
        var y = ChartSvg.Fit([.. pairs.Select(p => (p.Second, p.Third.Y))]);
        x.MaxResidual.Should().BeLessThan(0.05);
        y.MaxResidual.Should().BeLessThan(0.05);
        x.Scale.Should().BePositive("later episodes lie further right");
        y.Scale.Should().BeNegative("higher accuracy lies higher up");

        // The y range asked for (0 to 1) is the data area's height, exactly.
        var area = chart.Lines[0].Area;
        (y.Scale * 0 + y.Offset).Should().BeApproximately(area.Y + area.Height, 0.05, "accuracy 0 is the data area's bottom");
        (y.Scale * 1 + y.Offset).Should().BeApproximately(area.Y, 0.05, "accuracy 1 is the data area's top");
    }

    [Fact]
    public void A_long_single_series_is_one_path_without_markers_and_still_named()
    {
        var xs = Enumerable.Range(0, 100).Select(i => i * 10.0).ToArray();
        var s = new Series("train_loss", xs, [.. xs.Select(v => Math.Exp(-v / 300))]);

        var chart = ChartSvg.Parse(Charts.Svg(Charts.Lines("Loss", "episodes", "loss", [s]), 560, 340));

        // Charts.Lines moves the legend to the right only for several series; ScottPlot still draws
        // one (inside the data area) for a single named series.
        chart.Legend.Select(e => e.Name).Should().Equal("train_loss");
        var line = chart.Lines.Should().ContainSingle().Subject;
        chart.LineOf("train_loss").Should().BeSameAs(line);
        line.Points.Should().HaveCount(100);
        line.Markers.Should().Be(0, "more than 60 points are drawn as a bare line");
        line.Points.Select(p => p.X).Should().BeInAscendingOrder();
        ChartSvg.Fit([.. xs.Zip(line.Points, (v, p) => (v, p.X))]).MaxResidual.Should().BeLessThan(0.05);
        ChartSvg.Fit([.. s.Y.Zip(line.Points, (v, p) => (v, p.Y))]).MaxResidual.Should().BeLessThan(0.05);
    }
}
