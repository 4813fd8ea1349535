namespace MannLab.Cli;

/// <summary>A plain, aligned text table: stable output for terminals, pipes and tests.</summary>
public static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, header.Count).Select(c => all.Max(r => r[c].Length)).ToArray();
        string Line(IReadOnlyList<string> r) => string.Join("  ", r.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd();
        output.WriteLine(Line(header));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in all.Skip(1)) output.WriteLine(Line(row));
    }
}
