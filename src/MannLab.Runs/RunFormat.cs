namespace MannLab.Runs;

/// <summary>How a run's numbers read wherever they are shown: the terminal, the pages and the files.</summary>
public static class RunFormat
{
    /// <summary>The k-th sight of a class: 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st.</summary>
    public static string Ordinal(int k) => k + (k % 100 is 11 or 12 or 13 ? "th" : (k % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });

    /// <summary>An accuracy in percent to one decimal ("92.5"); null when there is none (not evaluated, or not a number).</summary>
    public static string? Percent(double? accuracy) => accuracy is { } a && double.IsFinite(a) ? $"{100 * a:F1}" : null;
}
