using System.CommandLine;
using MannLab.Runs;
using MannLab.Web;

namespace MannLab.Cli;

/// <summary>
/// <c>mannlab report paper [--out FILE.html|FILE.md]</c>: the reproduction report (<see cref="PaperReport"/>)
/// from the database as it is now, the same document the site serves at /report.
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "The file to write: .html (stands alone, charts as SVG) or .md (charts as embedded PNG)",
            DefaultValueFactory = _ => "paper-report.html",
        };
        var db = JobCommandSupport.DbOption();
        var paper = new Command("paper", "Every table of Santoro et al. (2016) beside MannLab's runs of it: mean and 95% interval over seeds, " +
                                         "the difference, a status, and every setting that is not the paper's");
        paper.Options.Add(output);
        paper.Options.Add(db);
        paper.SetAction(parse =>
        {
            var file = parse.GetValue(output)!;
            var extension = Path.GetExtension(file).ToLowerInvariant();
            if (extension is not (".html" or ".md"))
            {
                Console.Error.WriteLine($"error: --out {file}: expected a .html or .md file");
                return 1;
            }
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            var data = jobs.Queries.PaperReportAsync().GetAwaiter().GetResult();
            var now = DateTimeOffset.UtcNow;
            SafeFile.WriteText(Path.GetFullPath(file), extension == ".md" ? PaperReport.Markdown(data, now) : PaperReport.Html(data, now, site: false));
            Console.WriteLine($"wrote {file}: {data.Ours.Count} row(s) of MannLab runs beside {data.Paper.Count} of the paper's");
            return 0;
        });
        var command = new Command("report", "Documents generated from the database");
        command.Subcommands.Add(paper);
        return command;
    }
}
