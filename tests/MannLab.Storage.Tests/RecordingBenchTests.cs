namespace MannLab.Storage.Tests;

[Collection(PostgresCollection.Name)]
public class RecordingBenchTests(PostgresFixture pg)
{
    [Fact]
    public async Task The_recording_bench_writes_every_row_through_the_sink_and_leaves_nothing_behind()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var before = await Counts();

        var results = RecordingBench.Run(pg.DataSource, 2000);

        results.Select(r => (r.RowsPerWrite, r.Rewrite, r.Writes)).Should().Equal((20, false, 100), (200, false, 10), (2000, false, 1), (200, true, 10));
        results.Should().AllSatisfy(r => (r.MedianMs > 0 && r.MsPerThousand > 0 && r.RowsPerSecond > 0).Should().BeTrue());
        results.Where(r => !r.Rewrite).Should().AllSatisfy(r => r.BytesPerRow.Should().BePositive("new rows grow the metrics table"));
        (await Counts()).Should().Be(before, "the scratch run, its experiment, attempt, summary and rows are deleted");
    }

    private Task<string?> Counts() => pg.Scalar<string>("""
        select concat_ws(' ', (select count(*) from mannlab.runs), (select count(*) from mannlab.experiments), (select count(*) from mannlab.metrics),
                              (select count(*) from mannlab.run_attempts), (select count(*) from mannlab.run_summary))
        """);
}
