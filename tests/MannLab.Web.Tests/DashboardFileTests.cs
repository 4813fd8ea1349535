namespace MannLab.Web.Tests;

/// <summary>Dashboard files are read by the spec language's YAML front end: the same positions and wording as a spec's errors.</summary>
public sealed class DashboardFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string ErrorOf(string yaml) => Dashboards.LoadFile(_folder.Write("d.yaml", yaml)).Error ?? "";

    [Theory]
    [InlineData("title: Broken\npanels:\n  - title: [unclosed\n", ":3:12: error: YAML syntax: '[' is never closed (no matching ']')")]
    [InlineData("title: T\npanels:\n\t- sql: select 1\n", ":3:1: error: YAML syntax: a tab in the indentation: YAML indents with spaces only")]
    [InlineData("title: T\ntitle: U\npanels: []\n", ":2:1: error: title: duplicate key 'title' (first given at line 1)")]
    public void A_file_that_does_not_read_is_reported_as_a_spec_would_be(string yaml, string error) =>
        ErrorOf(yaml).Should().Be(_folder.Sub("d.yaml") + error);

    [Fact]
    public void Positions_inside_a_good_file_are_where_the_keys_stand()
    {
        var dashboard = Dashboards.LoadFile(_folder.Write("d.yaml", "title: T\nparameters:\n  Bad: 1\npanels: []\n"));
        dashboard.Error.Should().Be(_folder.Sub("d.yaml") + ":3:3: error: parameters.Bad: names are lower-case letters, digits and _");
        var panel = Dashboards.LoadFile(_folder.Write("d.yaml", "title: T\npanels:\n  - title: P\n    chart: pie\n    sql: select 1\n")).Panels.Single();
        panel.Error.Should().Be(_folder.Sub("d.yaml") + ":4:12: error: panels[0].chart: 'pie' is not a chart kind (line, bar, table, heatmap)");
    }

    [Fact]
    public void A_parameter_with_a_default_and_label_is_read()
    {
        var dashboard = Dashboards.LoadFile(_folder.Write("d.yaml",
            "title: T\nparameters:\n  experiment: {default: quickstart, label: Experiment}\n  instance: 2\npanels:\n  - {title: P, chart: table, sql: select 1}\n"));
        dashboard.Error.Should().BeNull();
        dashboard.Parameters.Should().Equal(new DashboardParameter("experiment", "quickstart", "Experiment"), new DashboardParameter("instance", "2", "instance"));
        dashboard.Panels.Single().Should().Be(new Panel("P", "select 1", ChartKind.Table, null, null, null, null, null));
    }
}
